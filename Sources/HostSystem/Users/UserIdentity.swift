import Glibc

/// A user as the system's user database has it (getpwnam(3), getgrouplist(3)).
public struct UserIdentity: Sendable, Equatable {
    public var name: String
    public var uid: uid_t
    public var gid: gid_t
    public var home: String
    public var shell: String
    /// Every group it is in, its primary group included.
    public var groups: [gid_t]

    public init(name: String, uid: uid_t, gid: gid_t, home: String, shell: String, groups: [gid_t]) {
        self.name = name
        self.uid = uid
        self.gid = gid
        self.home = home
        self.shell = shell
        self.groups = groups
    }

    /// getpwnam(3) and getgrouplist(3); nil when there is no such user.
    public static func lookup(_ name: String) -> UserIdentity? {
        guard let entry = getpwnam(name) else { return nil }
        let uid = entry.pointee.pw_uid, gid = entry.pointee.pw_gid
        let home = String(cString: entry.pointee.pw_dir)
        let shell = String(cString: entry.pointee.pw_shell)
        var count: Int32 = 64
        var groups = [gid_t](repeating: 0, count: Int(count))
        if getgrouplist(name, gid, &groups, &count) < 0 {
            groups = [gid_t](repeating: 0, count: Int(count))
            _ = getgrouplist(name, gid, &groups, &count)
        }
        return UserIdentity(name: name, uid: uid, gid: gid, home: home, shell: shell, groups: Array(groups.prefix(Int(count))))
    }

    /// Its own uid and primary group, for files it owns.
    public var ownership: Ownership { Ownership(uid: uid, gid: gid) }

    /// The names of the groups it is in (getgrgid(3) for each).
    public var groupNames: [String] { groups.compactMap(GroupDatabase.name(of:)) }
}

/// The system's group database.
public enum GroupDatabase {
    /// getgrnam(3): the group's id, nil when there is no such group.
    public static func id(of name: String) -> gid_t? {
        getgrnam(name).map { $0.pointee.gr_gid }
    }

    /// getgrgid(3)
    public static func name(of gid: gid_t) -> String? {
        getgrgid(gid).map { String(cString: $0.pointee.gr_name) }
    }

    /// The member names listed for the group (getgrnam(3) gr_mem; primary
    /// members are not listed there).
    public static func members(of name: String) -> [String] {
        guard let entry = getgrnam(name), var member = entry.pointee.gr_mem else { return [] }
        var names: [String] = []
        while let pointer = member.pointee {
            names.append(String(cString: pointer))
            member += 1
        }
        return names
    }
}
