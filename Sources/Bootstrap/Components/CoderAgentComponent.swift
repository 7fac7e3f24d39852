#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Fetch
import Glibc
import WorkspaceSpec

/// The Coder agent, downloaded from the deployment it belongs to and run as
/// the user by `coder-agent@<user>.service`.
///
/// Tokens: Coder mints one per workspace build, so the token in force is the
/// one that came with this boot's spec. It is written to a 0600 file owned by
/// the user under /run (gone at power-off) and reaches the agent through
/// CODER_AGENT_TOKEN_FILE, never argv or the environment file. A changed
/// token restarts the agent.
///
/// The binary is revalidated with the ETag Coder serves (the file's SHA-1),
/// so a warm boot costs one 304, and the unit's ExecStartPre runs
/// `coder-vm-bootstrap refresh-agent` so every restart picks up a Coder upgrade.
public struct CoderAgentComponent: Component {
    public let name = ComponentName.agent
    public let unit: String
    let coder: CoderSettings
    let user: String
    /// The agent's own debug server (CODER_AGENT_DEBUG_ADDRESS), our probe target.
    static let debugAddress = CoderSettings.agentDebugAddress
    /// A binary checked this recently is not checked again by ExecStartPre.
    static let freshness: Duration = .seconds(60)

    public init(spec: WorkspaceSpec, coder: CoderSettings) {
        self.coder = coder
        user = spec.user.name
        unit = "coder-agent@\(spec.user.name).service"
    }

    public func converge(_ context: ComponentContext) async throws -> Bool {
        let paths = context.paths
        var changed = try writeToken(context)
        changed = try AtomicFile.write(environment(context), to: paths.agentEnvironmentFile(user: user), mode: 0o600) || changed
        context.report("checking the agent binary at \(coder.effectiveAgentURL)")
        changed = try await Self.refreshBinary(coder: coder, paths: paths, downloads: context.downloads, report: context.report) || changed
        return changed
    }

    public func probe() async -> ProbeResult {
        await Probe.http(.tcp(host: Self.debugAddress.host, port: Self.debugAddress.port), path: "/debug/manifest")
    }

    /// Downloads `<agent url>/bin/coder-linux-<arch>` when the server has a
    /// different one than the file here (If-None-Match), and checks that it
    /// runs. Returns whether the binary changed.
    public static func refreshBinary(coder: CoderSettings, paths: Paths, downloads: DownloadService,
                                     report: @escaping @Sendable (String) -> Void) async throws -> Bool {
        let arch = try coder.arch.resolved()
        try AtomicFile.makeDirectories(FilePathParts(path: paths.agentBinary).directory)
        let result = try await downloads.download(
            DownloadRequest(url: "\(coder.effectiveAgentURL)bin/coder-linux-\(arch.rawValue)", destination: paths.agentBinary,
                            mode: 0o755, revalidation: .storedETag),
            what: "coder agent", report: report)
        touch(checkedStamp(paths))
        guard result.outcome != .notModified else { return false }
        let version = try await HostCommand([paths.agentBinary, "--version"]).run()
        guard version.contains("Coder") else {
            throw ComponentError("\(coder.effectiveAgentURL)bin/coder-linux-\(arch.rawValue) is not a Coder agent (`--version` printed \"\(version.prefix(60))\"); check coder.agentURL")
        }
        return true
    }

    /// Whether the binary was checked within `freshness` (by the daemon just
    /// before it started the unit).
    public static func checkedRecently(_ paths: Paths) -> Bool {
        var info = stat()
        guard stat(checkedStamp(paths), &info) == 0 else { return false }
        return time(nil) - info.st_mtim.tv_sec < Int(freshness.components.seconds)
    }

    static func checkedStamp(_ paths: Paths) -> String { "\(paths.runtime)/agent/binary-checked" }

    private static func touch(_ path: String) {
        try? AtomicFile.makeDirectories(FilePathParts(path: path).directory)
        let fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0o644)
        if fd >= 0 { futimens(fd, nil); close(fd) }
    }

    private func writeToken(_ context: ComponentContext) throws -> Bool {
        guard coder.auth == .token else { return false }
        let token: String
        if let inline = coder.token {
            token = inline
        } else if let file = coder.tokenFile, let data = FileManager.default.contents(atPath: file) {
            token = String(decoding: data, as: UTF8.self).trimmingCharacters(in: "\n")
        } else {
            throw ComponentError("coder.tokenFile \(coder.tokenFile ?? "") cannot be read")
        }
        let path = context.paths.agentTokenFile(user: user)
        try AtomicFile.makeDirectories(FilePathParts(path: path).directory, mode: 0o755)
        // The folder is the user's too, so nobody else can even list it.
        chown(FilePathParts(path: path).directory, context.user.uid, context.user.gid)
        chmod(FilePathParts(path: path).directory, 0o700)
        return try AtomicFile.write(token + "\n", to: path, mode: 0o600, owner: (context.user.uid, context.user.gid))
    }

    /// The unit's EnvironmentFile: where to connect and how, never the token itself.
    func environment(_ context: ComponentContext) -> String {
        var lines = [
            "CODER_AGENT_URL=\(coder.effectiveAgentURL)",
            "CODER_AGENT_AUTH=\(coder.auth.rawValue)",
            "CODER_AGENT_DEBUG_ADDRESS=\(Self.debugAddress.host):\(Self.debugAddress.port)",
            "CODER_AGENT_LOG_DIR=/var/log/coder-agent/\(user)",
        ]
        if coder.auth == .token { lines.append("CODER_AGENT_TOKEN_FILE=\(context.paths.agentTokenFile(user: user))") }
        if !coder.agentHeaders.isEmpty {
            lines.append("CODER_AGENT_HEADER=" + coder.agentHeaders.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ","))
        }
        if let proxy = coder.proxy {
            if let http = proxy.http { lines += ["HTTP_PROXY=\(http)", "http_proxy=\(http)"] }
            if let https = proxy.https { lines += ["HTTPS_PROXY=\(https)", "https_proxy=\(https)"] }
            if !proxy.noProxy.isEmpty {
                let list = proxy.noProxy.joined(separator: ",")
                lines += ["NO_PROXY=\(list)", "no_proxy=\(list)"]
            }
        }
        if !coder.caCertificates.isEmpty, let bundle = context.distro?.caBundle {
            lines.append("SSL_CERT_FILE=\(bundle)")
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
