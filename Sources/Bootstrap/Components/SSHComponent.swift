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

        let previous = FileManager.default.contents(atPath: paths.sshConfigDropIn)
        let wanted = dropIn(paths)
        if try AtomicFile.write(wanted, to: paths.sshConfigDropIn, mode: 0o644) {
            do {
                try await HostCommand(["sshd", "-t"]).run()
            } catch {
                // Put back what sshd accepted before; never reload a config it rejects.
                if let previous { try AtomicFile.write(previous, to: paths.sshConfigDropIn, mode: 0o644) }
                else { unlink(paths.sshConfigDropIn) }
                throw SSHConfigRejected(detail: "\(error)")
            }
            changed = true
        }
        try ensureIncludeOfDropIns()
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
    /// without it the drop-in would be ignored.
    private func ensureIncludeOfDropIns() throws {
        let main = "/etc/ssh/sshd_config"
        guard let data = FileManager.default.contents(atPath: main) else { return }
        let text = String(decoding: data, as: UTF8.self)
        let hasInclude = text.split(separator: "\n").contains {
            $0.trimmingPrefix(while: \.isWhitespace).lowercased().hasPrefix("include /etc/ssh/sshd_config.d/")
        }
        if !hasInclude {
            try AtomicFile.write("Include /etc/ssh/sshd_config.d/*.conf\n" + text, to: main, mode: 0o644)
        }
    }
}

public struct SSHConfigRejected: Error, CustomStringConvertible {
    public var detail: String
    public var description: String { "sshd rejected the new configuration, the previous one was kept: \(detail)" }
}

extension Substring {
    func trimmingPrefix(while predicate: (Character) -> Bool) -> Substring { drop(while: predicate) }
}
