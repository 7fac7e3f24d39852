#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc
import WorkspaceSpec

/// What every component needs before it starts: the user with its groups
/// and sudo rule, and the extra CA certificates trusted system-wide. Runs
/// first on every boot; each step is idempotent.
struct WorkspacePreparation {
    let spec: WorkspaceSpec
    let distro: Distro?
    let paths: Paths

    /// Returns the user as the system now knows it.
    func run(report: @Sendable (String) -> Void) async throws -> UserIdentity {
        // cloud-init's bootcmd makes the folder 0700 (umask 077) for the spec;
        // the user must reach its token folder and status file inside it.
        try AtomicFile.makeDirectories(paths.runtime)
        chmod(paths.runtime, 0o755)
        let name = spec.user.name
        if UserIdentity.lookup(name) == nil {
            report("creating user \(name)")
            try await HostCommand(["useradd", "--create-home", "--user-group", "--shell", spec.user.shell, name]).run()
        }
        var groups = spec.user.groups
        if spec.user.sudo, let admin = distro?.adminGroup { groups.append(admin) }
        if spec.docker.enabled, spec.docker.addUserToGroup { groups.append("docker") }
        for group in groups where getgrnam(group) == nil {
            // Made here when missing (docker before its package creates it),
            // so the agent starts with every group at once, in parallel with installs.
            try await HostCommand(["groupadd", "--system", group]).run()
        }
        if !groups.isEmpty {
            try await HostCommand(["usermod", "--append", "--groups", groups.joined(separator: ","), name]).run()
        }
        if spec.user.sudo { try await writeSudoRule(name) }
        try await trustCACertificates(report: report)
        guard let user = UserIdentity.lookup(name) else { throw ComponentError("user \(name) vanished after useradd") }
        return user
    }

    /// A sudoers drop-in checked by visudo before it is put in place.
    private func writeSudoRule(_ name: String) async throws {
        guard access("/etc/sudoers.d", F_OK) == 0 else { return }
        let path = "/etc/sudoers.d/90-coder-vm-bootstrap"
        let rule = "# Managed by coder-vm-bootstrap (user.sudo in the workspace spec).\n\(name) ALL=(ALL) NOPASSWD:ALL\n"
        let staged = "/etc/sudoers.d/.90-coder-vm-bootstrap.check"
        try AtomicFile.write(rule, to: staged, mode: 0o440)
        defer { unlink(staged) }
        try await HostCommand(["visudo", "-c", "-q", "-f", staged]).run()
        try AtomicFile.write(rule, to: path, mode: 0o440)
    }

    /// Installs the spec's CA certificates into the trust store (so every
    /// program trusts a self-signed Coder) and keeps them in one bundle for
    /// the daemon's own downloads.
    private func trustCACertificates(report: @Sendable (String) -> Void) async throws {
        let certificates = spec.coder?.caCertificates ?? []
        let pem = certificates.map { $0.hasSuffix("\n") ? $0 : $0 + "\n" }.joined()
        if pem.isEmpty { unlink(paths.caBundle) } else { try AtomicFile.write(pem, to: paths.caBundle, mode: 0o644) }
        guard let distro else { return }
        var changed = false
        for (index, certificate) in certificates.enumerated() {
            let file = "\(distro.caAnchorDirectory)/coder-vm-bootstrap-\(index).crt"
            changed = try AtomicFile.write(certificate.hasSuffix("\n") ? certificate : certificate + "\n", to: file, mode: 0o644) || changed
        }
        var index = certificates.count
        while unlink("\(distro.caAnchorDirectory)/coder-vm-bootstrap-\(index).crt") == 0 {
            changed = true
            index += 1
        }
        if changed {
            report("updating the CA trust store")
            try await HostCommand(distro.caUpdateCommand).run()
        }
    }
}
