/// Where the daemon keeps things in the VM. Every path is a field so tests
/// can move the whole layout below a temporary folder (`Paths(root:)`).
public struct Paths: Sendable {
    /// Lost at reboot: the spec, tokens, env files, status.
    public var runtime = "/run/coder-vm-bootstrap"
    /// Kept across reboots: the agent binary and its ETag, downloads in
    /// progress, what the daemon granted (to take it back).
    public var state = "/var/lib/coder-vm-bootstrap"
    /// Unpacked code-server releases, one folder per version.
    public var codeServerRoot = "/opt/code-server"
    public var sshConfig = "/etc/ssh"
    public var sudoers = "/etc/sudoers.d"

    public init() {}

    /// The same layout below `root` (for tests).
    public init(root: String) {
        runtime = root + runtime
        state = root + state
        codeServerRoot = root + codeServerRoot
        sshConfig = root + sshConfig
        sudoers = root + sudoers
    }

    public var statusFile: String { "\(runtime)/status.json" }
    /// The spec's extra CA certificates, for the daemon's own downloads.
    public var caBundle: String { "\(runtime)/ca-certificates.pem" }
    /// Root-owned, the user's group may enter: the token file inside is the user's.
    public func agentTokenFolder(user: String) -> String { "\(runtime)/agent/\(user)" }
    public func agentTokenFile(user: String) -> String { "\(agentTokenFolder(user: user))/token" }
    public var agentFolder: String { "\(state)/coder-agent" }
    public var agentBinary: String { "\(agentFolder)/coder" }
    /// When the agent binary was last revalidated, this boot (see `CoderAgentComponent.prepareStart`).
    public var agentChecked: String { "\(runtime)/agent-checked" }
    public var downloads: String { "\(state)/downloads" }
    /// The last boot's spec without its token (see `LastBootSpec`).
    public var lastBootSpec: String { "\(state)/last-boot-spec.json" }
    /// What the daemon granted the user (groups, sudo), to take back what a later spec drops.
    public var grantsFile: String { "\(state)/grants.json" }
    public var sshDropInFolder: String { "\(sshConfig)/sshd_config.d" }
    public var sshDropInName: String { "00-coder-vm-bootstrap.conf" }
    public var sshMainConfig: String { "\(sshConfig)/sshd_config" }
    public var sshAuthorizedKeysFolder: String { "\(sshConfig)/coder-vm-bootstrap/authorized_keys" }
    /// The environment files of the template units, one per user.
    public func environmentFolder(_ component: String) -> String { "\(runtime)/\(component)" }
}
