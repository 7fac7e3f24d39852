#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc
import WorkspaceSpec

/// sshd with the spec's keys and a policy that keeps people out only when
/// asked: keys in a root-owned file per user (the user's own
/// ~/.ssh/authorized_keys keeps working), password and root login off by
/// default, missing host keys generated. A config sshd rejects is rolled back
/// before any reload, so a bad change can never lock anyone out.
public struct SSHComponent: Component {
    public let name = ComponentName.ssh
    public let unit: String
    let settings: SSHSettings

    public init(spec: WorkspaceSpec, distro: Distro?) {
        unit = "\(distro?.sshUnit ?? "sshd").service"
        settings = spec.ssh
    }

    public func converge(_ context: ComponentContext) async throws -> Bool {
        let paths = context.paths
        let user = context.spec.user.name
        context.report("writing authorized keys for \(user)")
        let keys = context.spec.user.sshAuthorizedKeys.joined(separator: "\n") + "\n"
        var changed = try AtomicFile.write(
            "# Managed by coder-vm-bootstrap from the workspace spec; changes are overwritten.\n" + keys,
            to: "\(paths.sshAuthorizedKeysRoot)/\(user)", mode: 0o644)

        try await generateMissingHostKeys(context)

        // Both edits (the drop-in, and an Include line some images lack) are
        // checked together by `sshd -t`; on rejection both are put back, so
        // sshd is never reloaded with a config it would refuse.
        let mainConfig = "/etc/ssh/sshd_config"
        let previousDropIn = FileManager.default.contents(atPath: paths.sshConfigDropIn)
        let previousMain = FileManager.default.contents(atPath: mainConfig)
        let includeAdded = try ensureIncludeOfDropIns(mainConfig, current: previousMain)
        let dropInChanged = try AtomicFile.write(dropIn(paths), to: paths.sshConfigDropIn, mode: 0o644)
        if includeAdded || dropInChanged {
            do {
                try await HostCommand(["sshd", "-t"]).run()
            } catch {
                if let previousDropIn { try AtomicFile.write(previousDropIn, to: paths.sshConfigDropIn, mode: 0o644) }
                else { unlink(paths.sshConfigDropIn) }
                if includeAdded, let previousMain { try AtomicFile.write(previousMain, to: mainConfig, mode: 0o644) }
                throw SSHConfigRejected(detail: "\(error)")
            }
            changed = true
        }
        return changed
    }

    public func probe() async -> ProbeResult {
        await Probe.banner(.tcp(host: "127.0.0.1", port: settings.port), prefix: "SSH-2.0-")
    }

    /// The drop-in sorts first in sshd_config.d, and sshd keeps the first value
    /// it reads for a keyword, so this wins over cloud-init's 50-cloud-init.conf.
    func dropIn(_ paths: Paths) -> String {
        """
        # Managed by coder-vm-bootstrap from the workspace spec (ssh section).
        Port \(settings.port)
        PasswordAuthentication \(settings.passwordAuthentication ? "yes" : "no")
        KbdInteractiveAuthentication \(settings.passwordAuthentication ? "yes" : "no")
        PermitRootLogin \(settings.permitRootLogin ? "prohibit-password" : "no")
        PubkeyAuthentication yes
        AuthorizedKeysFile .ssh/authorized_keys \(paths.sshAuthorizedKeysRoot)/%u

        """
    }

    /// ed25519 first (what clients prefer, and fast to make), then whatever
    /// else the distribution expects; existing keys are never replaced.
    private func generateMissingHostKeys(_ context: ComponentContext) async throws {
        let ed25519 = "/etc/ssh/ssh_host_ed25519_key"
        if access(ed25519, F_OK) != 0 {
            context.report("generating SSH host keys")
            try await HostCommand(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", ed25519]).run()
        }
        try await HostCommand(["ssh-keygen", "-A"]).run()
    }

    /// Some images' sshd_config lacks `Include /etc/ssh/sshd_config.d/*.conf`;
    /// without it the drop-in would be ignored. Returns whether it was added.
    private func ensureIncludeOfDropIns(_ main: String, current: Data?) throws -> Bool {
        guard let current else { return false }
        let text = String(decoding: current, as: UTF8.self)
        let hasInclude = text.split(separator: "\n").contains {
            $0.drop(while: \.isWhitespace).lowercased().hasPrefix("include /etc/ssh/sshd_config.d/")
        }
        if hasInclude { return false }
        return try AtomicFile.write("Include /etc/ssh/sshd_config.d/*.conf\n" + text, to: main, mode: 0o644)
    }
}

public struct SSHConfigRejected: Error, CustomStringConvertible {
    public var detail: String
    public var description: String { "sshd rejected the new configuration, the previous one was kept: \(detail)" }
}
