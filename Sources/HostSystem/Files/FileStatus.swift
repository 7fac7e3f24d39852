import Glibc

/// What stat(2) says about a file, as far as the daemon cares.
public struct FileStatus: Equatable, Sendable {
    public enum Kind: Equatable, Sendable {
        case regular, directory, symbolicLink, other
    }

    public var kind: Kind
    /// The permission bits, setuid/setgid/sticky included (mode & 07777).
    public var permissions: mode_t
    public var owner: Ownership
    public var size: Int64
    /// Seconds since the epoch of the last content change (st_mtim).
    public var modified: Int

    init(_ info: stat) {
        switch info.st_mode & S_IFMT {
        case S_IFREG: kind = .regular
        case S_IFDIR: kind = .directory
        case S_IFLNK: kind = .symbolicLink
        default: kind = .other
        }
        permissions = info.st_mode & 0o7777
        owner = Ownership(uid: info.st_uid, gid: info.st_gid)
        size = Int64(info.st_size)
        modified = info.st_mtim.tv_sec
    }

    /// A regular file someone may execute.
    public var isExecutableFile: Bool { kind == .regular && permissions & 0o111 != 0 }
}
