import HostSystem
import WorkspaceSpec

/// sshd with the spec's keys and a policy that keeps people out only when
/// asked: keys in a root-owned file per user (the user's own
/// ~/.ssh/authorized_keys keeps working; keys the spec drops are gone on
/// the next converge), password and root login off by default, missing
/// host keys generated. A config sshd rejects is rolled back before any
/// restart, so a bad change can never lock anyone out.
public struct SSHComponent: Component {
    public let name = ComponentName.ssh
    public let unit: String?
    public var bootUnits: [String] { [unit!] }
    /// cloud-init's init stage writes sshd's host keys and config on a new instance.
    public let afterUnits = ["sysinit.target"]
    let settings: SSHSettings
    let user: WorkspaceUser

    public init(spec: WorkspaceSpec, host: HostDetection) {
        unit = "\(host.distro?.sshUnit ?? "sshd").service"
        settings = spec.ssh
        user = spec.user
    }

    public func converge(_ context: ComponentContext) async throws -> Bool {
        let paths = context.paths
        let keysFolder = try Directory.system(paths.sshAuthorizedKeysFolder, creating: .init())
        var keys = ConfigLines(header: "Managed by coder-vm-bootstrap from the workspace spec (user.sshAuthorizedKeys); changes are overwritten.")
        for key in user.sshAuthorizedKeys { try keys.add(key) }
        // sshd reads the keys at every login: new keys need no restart.
        try keysFolder.writeFile(user.name, text: keys.text, mode: 0o644)
        // Keys of users the spec no longer names go too.
        for entry in try keysFolder.entries() where entry != user.name && !entry.hasPrefix(".") {
            try keysFolder.remove(entry)
        }

        try await generateMissingHostKeys(context)
        return try await applyPolicy(context)
    }

    public func probe() async -> ProbeResult {
        await Probe.banner(.tcp(host: "127.0.0.1", port: settings.port), prefix: "SSH-2.0-")
    }

    /// The drop-in and, on images whose sshd_config lacks it, the Include of
    /// sshd_config.d, checked together by `sshd -t` and put back together
    /// if rejected.
    private func applyPolicy(_ context: ComponentContext) async throws -> Bool {
        let paths = context.paths
        let sshFolder = try Directory.system(paths.sshConfig)
        let dropIns = try Directory.system(paths.sshDropInFolder, creating: .init())
        let previousDropIn = try dropIns.readFile(paths.sshDropInName)
        let previousMain = try sshFolder.readFile("sshd_config")
        let newDropIn = Array(try dropIn(paths).text.utf8)
        let newMain = previousMain.flatMap(Self.withDropInsIncluded)
        guard previousDropIn != newDropIn || newMain != nil else { return false }

        try dropIns.writeFile(paths.sshDropInName, newDropIn, mode: 0o644)
        if let newMain { try sshFolder.writeFile("sshd_config", newMain, mode: 0o644) }
        // `sshd -t` wants its privilege separation folder, which Debian's
        // ssh.service makes only when it starts (RuntimeDirectory=sshd).
        if context.distro?.name == .debian { _ = try Directory.system("/run/sshd", creating: .init(mode: 0o755)) }
        do {
            try await HostCommand(["sshd", "-t"], deadline: .seconds(60)).run()
        } catch {
            if let previousDropIn { try dropIns.writeFile(paths.sshDropInName, previousDropIn, mode: 0o644) } else { try dropIns.remove(paths.sshDropInName) }
            if newMain != nil, let previousMain { try sshFolder.writeFile("sshd_config", previousMain, mode: 0o644) }
            // Whose config is it? If sshd rejects the image's own without
            // ours, say so: ours is not the one to fix.
            if (try? await HostCommand(["sshd", "-t"], deadline: .seconds(60)).run()) == nil {
                throw ComponentError(
                    .configuration,
                    "sshd rejects this image's own configuration, so the daemon's change was not applied "
                        + "and sshd was not restarted: \(error); fix the file sshd names (\(paths.sshConfig))")
            }
            throw ComponentError(
                .configuration, "sshd rejected the new configuration from the ssh section; the previous one was kept and sshd was not restarted: \(error)")
        }
        return true
    }

    /// The drop-in sorts first in sshd_config.d, and sshd keeps the first value
    /// it reads for a keyword, so this wins over cloud-init's 50-cloud-init.conf.
    func dropIn(_ paths: Paths) throws -> ConfigLines {
        var lines = ConfigLines(header: "Managed by coder-vm-bootstrap from the workspace spec (ssh section).")
        try lines.add("Port", String(settings.port))
        try lines.add("PasswordAuthentication", settings.passwordAuthentication ? "yes" : "no")
        try lines.add("KbdInteractiveAuthentication", settings.passwordAuthentication ? "yes" : "no")
        try lines.add("PermitRootLogin", settings.permitRootLogin ? "prohibit-password" : "no")
        try lines.add("PubkeyAuthentication", "yes")
        try lines.add("AuthorizedKeysFile", ".ssh/authorized_keys", "\(paths.sshAuthorizedKeysFolder)/%u")
        return lines
    }

    /// ed25519 first (what clients prefer, and fast to make), then the other
    /// types the distribution expects; existing keys are never replaced.
    private func generateMissingHostKeys(_ context: ComponentContext) async throws {
        let folder = try Directory.system(context.paths.sshConfig)
        let types = ["ed25519", "ecdsa", "rsa"]
        let missing = try types.filter { try folder.status("ssh_host_\($0)_key") == nil }
        guard !missing.isEmpty else { return }
        context.report("generating SSH host keys")
        do {
            if missing.contains("ed25519") {
                try await HostCommand(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", folder.childPath("ssh_host_ed25519_key")]).run()
            }
            try await HostCommand(["ssh-keygen", "-A"], deadline: .seconds(120)).run()
        } catch {
            throw ComponentError(.local, "\(error)")
        }
    }

    /// Some images' sshd_config lacks `Include /etc/ssh/sshd_config.d/*.conf`;
    /// without it the drop-in would be ignored. nil when it is there.
    static func withDropInsIncluded(_ main: [UInt8]) -> [UInt8]? {
        let text = String(decoding: main, as: UTF8.self)
        let hasInclude = text.split(separator: "\n").contains {
            $0.drop(while: \.isWhitespace).lowercased().hasPrefix("include /etc/ssh/sshd_config.d/")
        }
        return hasInclude ? nil : Array(("Include /etc/ssh/sshd_config.d/*.conf\n" + text).utf8)
    }
}
