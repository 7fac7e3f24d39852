#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The boot log's log source in Coder: its name and icon on the workspace
/// page, and an id that is the same on every boot of a workspace (Coder
/// keys sources by agent and id, and answers 201 for one that exists), so
/// a boot never adds a second "coder-vm-bootstrap" tab.
enum BootLogSource {
    static let displayName = "coder-vm-bootstrap"
    /// An emoji Coder's dashboard serves (a rocket), like its own "External" source's.
    static let icon = "/emojis/1f680.png"
    /// This project's namespace for the source's version 5 UUID. Never
    /// change it: every workspace's source id depends on it.
    static let namespace = UUID(uuidString: "ebda59df-7e88-469d-acec-7356a894c52c")!

    /// The version 5 UUID of the lowercased workspace id in `namespace`.
    static func id(forWorkspace workspaceID: String) -> String {
        NameBasedUUID.v5(namespace: namespace, name: workspaceID.lowercased())
    }
}
