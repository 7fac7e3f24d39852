/// The boot log's log source in Coder: its name and icon on the workspace
/// page, and one id for every boot of every workspace. Coder keys sources
/// by agent and id and answers 201 for one that exists, so a constant id
/// never adds a second "coder-vm-bootstrap" tab and never meets another
/// workspace's source (as Coder's own external log source id is one
/// constant). Never change it: each workspace would get a second tab.
enum BootLogSource {
    static let displayName = "coder-vm-bootstrap"
    /// An emoji Coder's dashboard serves (a rocket), like its own "External" source's.
    static let icon = "/emojis/1f680.png"
    static let id = "ebda59df-7e88-469d-acec-7356a894c52c"
}
