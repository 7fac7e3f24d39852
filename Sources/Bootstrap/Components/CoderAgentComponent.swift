import Fetch
import HostSystem
import WorkspaceSpec

/// The Coder agent, downloaded from the deployment it belongs to and run as
/// the user by `coder-agent@<user>.service`.
///
/// Tokens: Coder mints one per workspace build, so the token in force is the
/// one that came with this boot's spec. It is written to a 0600 file of the
/// user's under /run (gone at power-off), in a root-owned folder only the
/// user's group may enter, and reaches the agent through
/// CODER_AGENT_TOKEN_FILE, never argv or the environment file. A changed
/// token restarts the agent.
///
/// The binary is revalidated with the ETag Coder serves (the file's SHA-1),
/// so a warm boot costs one 304. A new body must be a program for this
/// machine and print "Coder" for `--version` run as the user before it
/// replaces the working binary; when the server cannot be reached, the
/// binary that is there is started anyway.
public struct CoderAgentComponent: Component {
    public let name = ComponentName.agent
    public let unit: String?
    public let needs: Set<ComponentName> = [.user]
    public let usesSecrets = true
    let coder: CoderSettings
    let userName: String
    /// The agent's own debug server (CODER_AGENT_DEBUG_ADDRESS), the probe's target.
    static let debugAddress = CoderSettings.agentDebugAddress
    /// A binary checked this recently is not checked again before a start.
    static let freshness: Duration = .seconds(60)

    public init(spec: WorkspaceSpec, coder: CoderSettings) {
        self.coder = coder
        userName = spec.user.name
        unit = "coder-agent@\(spec.user.name).service"
    }

    public func converge(_ context: ComponentContext) async throws -> Bool {
        let user = try context.workspaceUser()
        var changed = try writeToken(context, user: user)
        let environmentFolder = try Directory.system(context.paths.environmentFolder("agent"), creating: .init())
        changed = try environmentFolder.writeFile("\(userName).env", text: try environment(context).text, mode: 0o600) || changed
        // The prefetch revalidated the binary just now.
        if context.followsPrefetch { return changed }
        return try await refreshOrKeep(context) || changed
    }

    /// The binary's revalidation, before the user exists: a new body
    /// downloads at once and is checked as the user once it is ready.
    public func prefetch(_ context: ComponentContext, needsReady: NeedsReady) async throws -> Bool {
        try await refreshOrKeep(context, checkAfter: needsReady)
    }

    public func probe() async -> ProbeResult {
        await Probe.http(.tcp(host: Self.debugAddress.host, port: Self.debugAddress.port), path: "/debug/manifest")
    }

    /// Before every start of the agent (its unit's ExecStartPre, systemd's
    /// own restarts included): revalidate the binary unless the daemon just
    /// did, so a Coder upgrade reaches the VM; never keep a binary that is
    /// there from starting.
    public func prepareStart(_ context: ComponentContext) async throws {
        let stamp = FilePathParts(context.paths.agentChecked)
        if let checked = try Directory.system(stamp.directory, creating: .init()).status(stamp.name),
            Machine.now - checked.modified < Int(Self.freshness.components.seconds)
        {
            return
        }
        _ = try await refreshOrKeep(context)
    }

    /// Refreshes the binary, a new one checked once `checkAfter` is ready
    /// (at once without it); when the server is at fault and a binary is
    /// there, reports it and keeps that one. Returns whether the binary changed.
    private func refreshOrKeep(_ context: ComponentContext, checkAfter needsReady: NeedsReady? = nil) async throws -> Bool {
        context.report("checking the agent binary at \(DownloadService.host(of: coder.effectiveAgentURL))")
        do {
            return try await refreshBinary(context, checkAfter: needsReady)
        } catch let error as ComponentError where error.kind == .server {
            let binary = FilePathParts(context.paths.agentBinary)
            guard let installed = try Directory.system(binary.directory).status(binary.name), installed.isExecutableFile else { throw error }
            context.report("keeping the agent binary that is there: \(error)")
            context.logger.warning(
                "could not revalidate the agent binary, starting the one that is there: \(error)",
                metadata: ["component": "agent", "stage": "download"])
            return false
        }
    }

    /// Downloads `<agent url>/bin/coder-linux-<arch>` when the server has a
    /// different one than the file here (If-None-Match). Returns whether the
    /// binary changed.
    private func refreshBinary(_ context: ComponentContext, checkAfter needsReady: NeedsReady?) async throws -> Bool {
        let arch = try coder.arch.resolved()
        _ = try Directory.system(context.paths.agentFolder, creating: .init())  // where the download goes
        // A new body is checked before it replaces the binary that works: a
        // program for this machine that prints "Coder" for `--version`, run as the user.
        let job = DownloadJob(
            url: "\(coder.effectiveAgentURL)bin/coder-linux-\(arch.rawValue)", destination: context.paths.agentBinary,
            mode: 0o755, revalidation: .storedETag,
            body: .verifyProgram(runAsUser: userName, expectVersionContaining: "Coder"))
        let result = try await context.downloads.download(
            job, what: "coder agent", events: context.events, logger: context.logger, beforeCheck: needsReady.map { $0.wait })
        // The time as its text, so the file changes (and its mtime with it)
        // every time; in /run, since a check is only fresh within a boot.
        let stamp = FilePathParts(context.paths.agentChecked)
        try Directory.system(stamp.directory, creating: .init()).writeFile(stamp.name, text: "\(Machine.now)\n", mode: 0o644)
        return result.outcome != .notModified
    }

    /// The token of this boot in a file of the user's, in a folder of root's
    /// that only the user's group may enter (the user cannot plant links there).
    private func writeToken(_ context: ComponentContext, user: UserIdentity) throws -> Bool {
        guard coder.auth == .token else { return false }
        let token = try AgentToken.read(coder)
        let tokenFolder = FilePathParts(context.paths.agentTokenFolder(user: userName))
        let folder = try Directory.system(tokenFolder.directory, creating: .init()).child(tokenFolder.name, creating: .init(mode: 0o750))
        var changed = try folder.setAttributes(mode: 0o750, owner: Ownership(uid: 0, gid: user.gid))
        changed = try folder.writeFile("token", text: token + "\n", mode: 0o600, owner: user.ownership) || changed
        return changed
    }

    /// The unit's EnvironmentFile: where to connect and how, never the token itself.
    func environment(_ context: ComponentContext) throws -> EnvironmentFile {
        var file = EnvironmentFile(comment: "Managed by coder-vm-bootstrap from the workspace spec (coder section).")
        try file.set("CODER_AGENT_URL", coder.effectiveAgentURL)
        try file.set("CODER_AGENT_AUTH", coder.auth.rawValue)
        try file.set("CODER_AGENT_DEBUG_ADDRESS", "\(Self.debugAddress.host):\(Self.debugAddress.port)")
        try file.set("CODER_AGENT_LOG_DIR", "/var/log/coder-agent/\(userName)")
        // The unit keeps the agent itself out of the OOM killer's way
        // (OOMScoreAdjust=-900); this makes the agent give the shells and
        // builds it starts a normal score again instead of inheriting it.
        try file.set("CODER_PROC_PRIO_MGMT", "1")
        if coder.auth == .token { try file.set("CODER_AGENT_TOKEN_FILE", context.paths.agentTokenFile(user: userName)) }
        if !coder.agentHeaders.isEmpty {
            try file.set("CODER_AGENT_HEADER", coder.agentHeaders.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ","))
        }
        if let proxy = coder.proxy {
            if let http = proxy.http {
                try file.set("HTTP_PROXY", http)
                try file.set("http_proxy", http)
            }
            if let https = proxy.https {
                try file.set("HTTPS_PROXY", https)
                try file.set("https_proxy", https)
            }
            if !proxy.noProxy.isEmpty {
                let list = proxy.noProxy.joined(separator: ",")
                try file.set("NO_PROXY", list)
                try file.set("no_proxy", list)
            }
        }
        if !coder.caCertificates.isEmpty, let bundle = context.distro?.caBundle { try file.set("SSL_CERT_FILE", bundle) }
        return file
    }
}

extension String {
    /// Without leading and trailing white space and line breaks (a token file's newline).
    var trimmingWhitespace: String {
        String(drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
    }
}
