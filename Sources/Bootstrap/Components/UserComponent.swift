import HostSystem
import WorkspaceSpec

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The workspace user with the groups and sudo rule the spec asks for, and
/// the spec's CA certificates in the system trust store. What the daemon
/// grants is recorded (`Paths.grantsFile`), so a group or `sudo: true` that
/// a later build's spec drops is taken back on the next boot. Every other
/// component that runs as the user needs this one.
public struct UserComponent: Component {
    public let name = ComponentName.user
    public let unit: String? = nil
    let user: WorkspaceUser
    let wantsDockerGroup: Bool
    let caCertificates: [String]

    public init(spec: WorkspaceSpec) {
        user = spec.user
        wantsDockerGroup = spec.docker.enabled && spec.docker.addUserToGroup
        caCertificates = spec.coder?.caCertificates ?? []
    }

    public func converge(_ context: ComponentContext) async throws -> Bool {
        let paths = context.paths
        // cloud-init's bootcmd makes the runtime folder with umask 077 for the
        // spec; the user must reach its token folder and status file in it.
        try Directory.system(paths.runtime, creating: .init()).setAttributes(mode: 0o755, owner: .root)
        // The rule names the user but needs no account: visudo checks it while useradd runs.
        async let sudoRule = convergeSudoRule(context)
        let groups = wantedGroups(context)
        let existing = UserIdentity.lookup(user.name)
        // A group of the user's own name is useradd's to make (--user-group).
        let ahead = existing == nil ? groups.filter { $0 != user.name } : groups
        var changed = try await ensureGroupsExist(context, ahead)
        let created = existing == nil
        if let existing {
            changed = try await convergeShell(context, of: existing) || changed
        } else {
            try await createUser(context, groups: ahead)
            changed = true
        }
        let grants = try Grants.load(paths, user: user.name)
        var granted = Grants(user: user.name)
        changed =
            try await convergeGroups(context, wanted: groups, givenAtCreation: created ? ahead : [], previously: grants, now: &granted)
            || changed
        let sudo = try await sudoRule
        granted.sudo = sudo.granted
        changed = sudo.changed || changed
        try granted.save(paths)
        changed = try await trustCACertificates(context) || changed
        return changed
    }

    public func probe() async -> ProbeResult {
        UserIdentity.lookup(user.name) == nil ? .unhealthy("user \(user.name) does not exist") : .healthy
    }

    /// The user's shell as the spec says.
    private func convergeShell(_ context: ComponentContext, of existing: UserIdentity) async throws -> Bool {
        guard existing.shell != user.shell else { return false }
        try await run(context, ["usermod", "--shell", user.shell, user.name])
        return true
    }

    /// Creates the user, in `groups` from the start (one command less on a
    /// first boot).
    private func createUser(_ context: ComponentContext, groups: [String]) async throws {
        if GroupDatabase.id(of: user.name) != nil {
            throw ComponentError(
                .configuration,
                "cannot create user \(user.name): a group of that name already exists and is not its own; "
                    + "choose another user.name or remove the group from the image")
        }
        context.report("creating user \(user.name)")
        let inGroups = groups.isEmpty ? [] : ["--groups", groups.joined(separator: ",")]
        try await run(context, ["useradd", "--create-home", "--user-group", "--shell", user.shell] + inGroups + [user.name])
    }

    /// The groups the spec asks for, each once.
    private func wantedGroups(_ context: ComponentContext) -> [String] {
        var wanted = user.groups
        if user.sudo, let admin = context.distro?.adminGroup { wanted.append(admin) }
        if wantsDockerGroup { wanted.append("docker") }
        return wanted.reduce(into: []) { if !$0.contains($1) { $0.append($1) } }
    }

    /// The groups the spec asks for, made when missing (docker's before its
    /// package makes it, so the agent starts with every group at once).
    private func ensureGroupsExist(_ context: ComponentContext, _ groups: [String]) async throws -> Bool {
        var changed = false
        for group in groups where GroupDatabase.id(of: group) == nil {
            try await run(context, ["groupadd", "--system", group])
            changed = true
        }
        return changed
    }

    /// The user in every group the spec asks for; the ones the daemon added
    /// earlier (or gave the user when it created it) that the spec no longer
    /// asks for are taken away. Groups the user was in without the daemon
    /// are left alone.
    private func convergeGroups(
        _ context: ComponentContext, wanted: [String], givenAtCreation: [String], previously: Grants, now granted: inout Grants
    ) async throws -> Bool {
        var changed = false
        let current = Set(UserIdentity.lookup(user.name)?.groupNames ?? [])
        let missing = wanted.filter { !current.contains($0) }
        if !missing.isEmpty {
            context.report("adding \(user.name) to \(missing.joined(separator: ", "))")
            try await run(context, ["usermod", "--append", "--groups", missing.joined(separator: ","), user.name])
            changed = true
        }
        // Recorded: what the daemon gave now, and what it had given before and still wants.
        granted.groups = Array(Set(missing + givenAtCreation + previously.groups.filter(wanted.contains))).sorted()
        for group in previously.groups where !wanted.contains(group) && current.contains(group) {
            context.report("removing \(user.name) from \(group)")
            try await run(context, ["gpasswd", "--delete", user.name, group])
            changed = true
        }
        return changed
    }

    /// Passwordless sudo through a sudoers drop-in checked by visudo before
    /// it is put in place; removed when the spec says `sudo: false`. Returns
    /// whether the file changed and whether the rule is granted now.
    private func convergeSudoRule(_ context: ComponentContext) async throws -> (changed: Bool, granted: Bool) {
        let folderPath = context.paths.sudoers
        guard let folder = try? Directory.system(folderPath) else { return (false, false) }  // no sudo on this image
        let file = "90-coder-vm-bootstrap"
        guard user.sudo else { return (try folder.remove(file), false) }
        var rule = ConfigLines(header: "Managed by coder-vm-bootstrap (user.sudo in the workspace spec).")
        try rule.add(user.name, "ALL=(ALL)", "NOPASSWD:ALL")
        let text = Array(rule.text.utf8)
        if try folder.readFile(file) == text, try folder.status(file)?.permissions == 0o440 { return (false, true) }
        let staged = ".\(file).check"
        try folder.writeFile(staged, text, mode: 0o440)
        defer { _ = try? folder.remove(staged) }
        try await run(context, ["visudo", "-c", "-q", "-f", folder.childPath(staged)])
        return (try folder.writeFile(file, text, mode: 0o440), true)
    }

    /// The spec's CA certificates, installed into the distribution's trust
    /// store (so every program trusts a self-signed Coder) and kept in one
    /// bundle for the daemon's own downloads; anchors of certificates the
    /// spec dropped are removed.
    private func trustCACertificates(_ context: ComponentContext) async throws -> Bool {
        let pems = caCertificates.map { $0.hasSuffix("\n") ? $0 : $0 + "\n" }
        let bundlePath = FilePathParts(context.paths.caBundle)
        let runtime = try Directory.system(bundlePath.directory)
        if pems.isEmpty {
            try runtime.remove(bundlePath.name)
        } else {
            try runtime.writeFile(bundlePath.name, text: pems.joined(), mode: 0o644)
        }
        guard let distro = context.distro else { return false }
        let anchors = try Directory.system(distro.caAnchorDirectory, creating: .init())
        var changed = false
        for (index, pem) in pems.enumerated() {
            changed = try anchors.writeFile("coder-vm-bootstrap-\(index).crt", text: pem, mode: 0o644) || changed
        }
        for entry in try anchors.entries() where entry.hasPrefix("coder-vm-bootstrap-") && entry.hasSuffix(".crt") {
            let index = Int(entry.dropFirst("coder-vm-bootstrap-".count).dropLast(4)) ?? -1
            if index < 0 || index >= pems.count { changed = try anchors.remove(entry) || changed }
        }
        guard changed else { return false }
        context.report("updating the CA trust store")
        try await run(context, distro.caUpdateCommand, deadline: .seconds(120))
        return true
    }

    private func run(_ context: ComponentContext, _ arguments: [String], deadline: Duration = .seconds(60)) async throws {
        do {
            try await HostCommand(arguments, deadline: deadline).run()
        } catch {
            throw ComponentError(.configuration, "\(error)")
        }
    }
}

/// What the daemon granted the workspace user, kept across boots.
struct Grants: Codable, Equatable {
    var user: String
    /// Supplementary groups the daemon added the user to.
    var groups: [String] = []
    var sudo = false

    static func load(_ paths: Paths, user: String) throws -> Grants {
        let file = FilePathParts(paths.grantsFile)
        guard let folder = try? Directory.system(file.directory), let data = try folder.readFile(file.name, limit: 64 * 1024),
            let grants = try? JSONDecoder().decode(Grants.self, from: Data(data)), grants.user == user
        else { return Grants(user: user) }
        return grants
    }

    func save(_ paths: Paths) throws {
        let file = FilePathParts(paths.grantsFile)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try Directory.system(file.directory, creating: .init()).writeFile(file.name, Array(try encoder.encode(self)), mode: 0o600)
    }
}
