import WorkspaceSpec

/// The `#cloud-config` user-data of a workspace VM: the host name, the
/// bootcmd that delivers the spec on every boot, and the runcmd that
/// installs (if needed) and starts the daemon. Everything else (the user,
/// SSH, docker, code-server, the agent) is the daemon's job.
///
/// It grants no access of its own. cloud-init's `users` entries write
/// `~/.ssh/authorized_keys` and `/etc/sudoers.d/90-cloud-init-users` once
/// per instance and never remove them, so a key or `sudo: true` dropped from
/// a later build's spec would outlive it. The daemon (root, on every boot)
/// creates the user, converges its groups, its keys (root-owned, under
/// /etc/ssh/coder-vm-bootstrap) and its sudoers drop-in, and takes back
/// what the spec no longer grants. `users: []` also stops cloud-init from
/// creating the distribution's default user (debian, fedora, ...), which
/// would get passwordless sudo.
public enum CloudConfig {
    public static let header = "#cloud-config\n"

    public static func document(_ context: RenderContext) throws -> YAMLValue {
        let spec = context.spec
        return .object([
            // cloud-init's update_hostname runs on every boot, so a new host name applies at the next one.
            "hostname": .string(spec.hostname),
            "preserve_hostname": false,
            "users": [],
            "bootcmd": [.string(try SpecDelivery.bootCommand(spec))],
            "runcmd": .list(DaemonInstall.runcmd(spec)),
        ])
    }

    public static func render(_ context: RenderContext) throws -> String {
        header + (try document(context).yamlDocument())
    }
}
