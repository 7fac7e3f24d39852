import WorkspaceSpec

/// The `#cloud-config` user-data of a workspace VM: host name, the
/// workspace user, the bootcmd that delivers the spec on every boot, and the
/// runcmd that installs (if needed) and starts the daemon. Everything else
/// (SSH, docker, code-server, the agent) is the daemon's job.
public enum CloudConfig {
    public static let header = "#cloud-config\n"

    public static func document(_ context: RenderContext) throws -> YAMLValue {
        let spec = context.spec
        return .object([
            "hostname": .string(spec.hostname),
            "preserve_hostname": false,
            "users": [user(spec.user, distribution: context.options.distribution)],
            "bootcmd": [.string(try SpecDelivery.bootCommand(spec))],
            "runcmd": .list(DaemonInstall.runcmd(spec)),
        ])
    }

    public static func render(_ context: RenderContext) throws -> String {
        header + (try document(context).yamlDocument())
    }

    /// Passwordless and locked: people log in with their SSH keys (or
    /// through Coder); sudo through the distribution's admin group.
    static func user(_ user: WorkspaceUser, distribution: DistributionPreset) -> YAMLValue {
        var groups = user.groups
        if user.sudo { groups.append(distribution.family.adminGroup) }
        groups = groups.reduce(into: []) { if !$0.contains($1) { $0.append($1) } }
        return .object([
            "name": .string(user.name),
            "lock_passwd": true,
            "shell": .string(user.shell),
            "groups": groups.isEmpty ? nil : .list(groups.map(YAMLValue.string)),
            "sudo": user.sudo ? "ALL=(ALL) NOPASSWD:ALL" : nil,
            "ssh_authorized_keys": user.sshAuthorizedKeys.isEmpty ? nil : .list(user.sshAuthorizedKeys.map(YAMLValue.string)),
        ])
    }
}
