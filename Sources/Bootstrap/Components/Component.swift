import Logging
import SystemdSupport
import WorkspaceSpec

/// One part of the workspace the daemon makes and keeps healthy. Adding a
/// fifth (a dotfiles step, JetBrains Gateway) is one new type and one line
/// in `Engine.components(for:)`.
public protocol Component: Sendable {
    var name: ComponentName { get }
    /// The systemd unit that runs it; the supervisor starts and restarts it.
    var unit: String { get }

    /// Makes the machine match the spec. Idempotent and safe after a crash
    /// halfway: files are written atomically, downloads resume. Returns
    /// whether something the running unit uses changed (so it is restarted).
    func converge(_ context: ComponentContext) async throws -> Bool

    /// A real probe (a banner, an HTTP status), not "the process exists".
    func probe() async -> ProbeResult
}

public enum ProbeResult: Equatable, Sendable {
    case healthy
    case unhealthy(String)
}

/// What a component gets to work with.
public struct ComponentContext: Sendable {
    public var spec: WorkspaceSpec
    public var distro: Distro?
    public var user: UserIdentity
    public var paths: Paths
    public var logger: Logger
    public var downloads: DownloadService
    /// Reports one line on what the component is doing ("downloading 41% of 120 MB").
    public var report: @Sendable (String) -> Void
}

/// Where the daemon keeps things in the VM.
public struct Paths: Sendable {
    /// Lost at reboot: the spec, tokens, env files, status.
    public var runtime = "/run/coder-vm-bootstrap"
    /// Kept across reboots: the agent binary and its ETag.
    public var state = "/var/lib/coder-vm-bootstrap"
    /// Unpacked code-server releases, one folder per version.
    public var codeServerRoot = "/opt/code-server"
    public var sshConfigDropIn = "/etc/ssh/sshd_config.d/00-coder-vm-bootstrap.conf"
    public var sshAuthorizedKeysRoot = "/etc/ssh/coder-vm-bootstrap/authorized_keys"

    public init() {}

    public var statusFile: String { "\(runtime)/status.json" }
    /// The extra CA certificates from the spec, for downloads and the agent.
    public var caBundle: String { "\(runtime)/ca-certificates.pem" }
    public func agentEnvironmentFile(user: String) -> String { "\(runtime)/agent/\(user).env" }
    public func agentTokenFile(user: String) -> String { "\(runtime)/agent/\(user)/token" }
    public var agentBinary: String { "\(state)/coder-agent/coder" }
    public func codeServerEnvironmentFile(user: String) -> String { "\(runtime)/code-server/\(user).env" }
}
