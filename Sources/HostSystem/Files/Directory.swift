import Glibc

/// Who owns a file.
public struct Ownership: Equatable, Sendable {
    public var uid: uid_t
    public var gid: gid_t

    public init(uid: uid_t, gid: gid_t) {
        self.uid = uid
        self.gid = gid
    }

    public static let root = Ownership(uid: 0, gid: 0)
}

/// A folder held open by its descriptor. Everything below it is reached
/// with openat(2) and `O_NOFOLLOW`, created with `O_EXCL`, given its owner
/// and mode on the descriptor, and put in place with renameat(2): a
/// symbolic or hard link planted by whoever can write somewhere below can
/// never redirect a write of the daemon's (it runs as root).
///
/// Open a root of trust with `system(_:)` (a root-owned folder such as
/// /etc/ssh or /opt/code-server) and walk below it with `child(_:)`; a
/// user's home is reached as `system(parent).child(name)`.
public final class Directory: @unchecked Sendable {  // the descriptor never changes; calls on it are thread-safe
    let descriptor: Int32
    /// The path it was opened by, for messages.
    public let path: String

    init(descriptor: Int32, path: String) {
        self.descriptor = descriptor
        self.path = path
    }

    /// close(2)
    deinit { close(descriptor) }

    /// How a missing folder is created.
    public struct Creation: Sendable {
        public var mode: mode_t
        /// nil: the daemon's (root).
        public var owner: Ownership?

        public init(mode: mode_t = 0o755, owner: Ownership? = nil) {
            self.mode = mode
            self.owner = owner
        }
    }

    // MARK: Opening

    /// A system folder by its absolute path, made (root, `creation.mode`)
    /// where missing when `creation` is given.
    ///
    /// Each component is opened with openat(2) from "/". A symbolic link is
    /// followed only when the folder holding it is root's and writable by
    /// nobody else (then only root can have made it); below a folder others
    /// may write to (a sticky /tmp) components are opened with `O_NOFOLLOW`
    /// and must themselves be root's. Any other folder is refused.
    public static func system(_ path: String, creating creation: Creation? = nil) throws(SystemError) -> Directory {
        guard path.hasPrefix("/") else { throw SystemError("open", path, code: EINVAL, reason: "not an absolute path") }
        let rootDescriptor = Glibc.open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard rootDescriptor >= 0 else { throw SystemError("open", "/") }
        var current = Directory(descriptor: rootDescriptor, path: "/")
        for name in path.split(separator: "/").map(String.init) {
            let followLinks = try current.isTrusted()
            current = try current.open(name, followingLinks: followLinks, creating: creation)
            let trusted = try current.isTrusted()
            let sticky = try current.isStickyRootFolder()
            guard trusted || sticky else {
                throw SystemError(
                    "use", current.path, code: EPERM,
                    reason: "it is writable by users other than root, so it cannot hold the daemon's files")
            }
        }
        return current
    }

    /// The folder `name` directly below this one, never through a symbolic
    /// link (openat(2) with `O_NOFOLLOW | O_DIRECTORY`). When missing and
    /// `creation` is given it is made with mkdirat(2), then given its owner
    /// and mode on the new descriptor (fchown(2), fchmod(2)).
    public func child(_ name: String, creating creation: Creation? = nil) throws(SystemError) -> Directory {
        try open(name, followingLinks: false, creating: creation)
    }

    /// `relative` ("a/b/c") walked with `child(_:creating:)`, one component at a time.
    public func descend(_ relative: String, creating creation: Creation? = nil) throws(SystemError) -> Directory {
        var current = self
        for name in relative.split(separator: "/").map(String.init) {
            current = try current.child(name, creating: creation)
        }
        return current
    }

    private func open(_ name: String, followingLinks: Bool, creating creation: Creation?) throws(SystemError) -> Directory {
        try Self.checkName(name, in: self)
        let full = childPath(name)
        let flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC | (followingLinks ? 0 : O_NOFOLLOW)
        var fd = openat(descriptor, name, flags)
        if fd < 0, errno == ENOENT, let creation {
            if mkdirat(descriptor, name, 0o700) != 0, errno != EEXIST { throw SystemError("create folder", full) }
            fd = openat(descriptor, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW)
            guard fd >= 0 else { throw SystemError("open", full) }
            let made = Directory(descriptor: fd, path: full)
            try made.setAttributes(mode: creation.mode, owner: creation.owner ?? .root)
            return made
        }
        guard fd >= 0 else {
            let code = errno
            if code == ELOOP || (code == ENOTDIR && (try? status(name))?.kind == .symbolicLink) {
                throw SystemError("open", full, code: code, reason: "it is a symbolic link, which is not followed here")
            }
            throw SystemError("open", full, code: code)
        }
        return Directory(descriptor: fd, path: full)
    }

    // MARK: This folder

    /// fstat(2) of the folder itself.
    public func ownStatus() throws(SystemError) -> FileStatus {
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { throw SystemError("stat", path) }
        return FileStatus(info)
    }

    /// Gives the folder itself `owner` and `mode` (fchown(2), fchmod(2) on
    /// its descriptor) where they differ; returns whether anything changed.
    @discardableResult
    public func setAttributes(mode: mode_t, owner: Ownership? = nil) throws(SystemError) -> Bool {
        let current = try ownStatus()
        var changed = false
        if let owner, current.owner != owner {
            guard fchown(descriptor, owner.uid, owner.gid) == 0 else { throw SystemError("chown", path) }
            changed = true
        }
        if current.permissions != mode || changed {
            guard fchmod(descriptor, mode) == 0 else { throw SystemError("chmod", path) }
            changed = changed || current.permissions != mode
        }
        return changed
    }

    /// fsync(2) on the folder, so a rename in it survives a power cut.
    public func sync() throws(SystemError) {
        guard fsync(descriptor) == 0 else { throw SystemError("fsync", path) }
    }

    /// Root's and writable by nobody else.
    func isTrusted() throws(SystemError) -> Bool {
        let own = try ownStatus()
        return own.owner.uid == 0 && own.permissions & 0o022 == 0
    }

    /// Root's, world-writable and sticky (/tmp): others may add entries but
    /// not replace root's, so components below it are opened without
    /// following links and must be root's themselves.
    func isStickyRootFolder() throws(SystemError) -> Bool {
        let own = try ownStatus()
        return own.owner.uid == 0 && own.permissions & 0o1000 != 0
    }

    // MARK: Entries

    /// fstatat(2) with `AT_SYMLINK_NOFOLLOW`; nil when there is no such entry.
    public func status(_ name: String) throws(SystemError) -> FileStatus? {
        try Self.checkName(name, in: self)
        var info = stat()
        guard fstatat(descriptor, name, &info, AT_SYMLINK_NOFOLLOW) == 0 else {
            if errno == ENOENT { return nil }
            throw SystemError("stat", childPath(name))
        }
        return FileStatus(info)
    }

    /// The names in the folder ("." and ".." left out), through
    /// fdopendir(3) on a duplicate of the descriptor and readdir(3).
    public func entries() throws(SystemError) -> [String] {
        let duplicate = dup(descriptor)
        guard duplicate >= 0, let stream = fdopendir(duplicate) else {
            if duplicate >= 0 { close(duplicate) }
            throw SystemError("list", path)
        }
        defer { closedir(stream) }
        rewinddir(stream)
        var names: [String] = []
        while let entry = readdir(stream) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != ".", name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    /// The whole file `name`, at most `limit` bytes (a longer one is an
    /// error); nil when there is no such file. Opened with `O_NOFOLLOW` and
    /// `O_NONBLOCK` (a FIFO planted there cannot block the daemon) and read
    /// only if it is a regular file.
    public func readFile(_ name: String, limit: Int = 1 << 20) throws(SystemError) -> [UInt8]? {
        try Self.checkName(name, in: self)
        let fd = openat(descriptor, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else {
            if errno == ENOENT { return nil }
            throw SystemError("open", childPath(name))
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw SystemError("stat", childPath(name)) }
        guard info.st_mode & S_IFMT == S_IFREG else {
            throw SystemError("read", childPath(name), code: EINVAL, reason: "it is not a regular file")
        }
        guard Int(info.st_size) <= limit else {
            throw SystemError("read", childPath(name), code: EFBIG, reason: "it is larger than \(limit) bytes")
        }
        return try FileContents.readAll(fd, path: childPath(name), limit: limit)
    }

    /// Writes `contents` to `name` so readers see the old file or the new,
    /// never a part, unless it already holds exactly that with the same mode
    /// and owner. Returns whether anything changed.
    ///
    /// A new file with a random name is created with `O_CREAT | O_EXCL |
    /// O_NOFOLLOW`, given its owner and mode on the descriptor before a byte
    /// is written (a secret is never readable by others, not even briefly),
    /// fsync'ed, renamed over `name` with renameat(2), and the folder
    /// fsync'ed. An existing `name` that is a link is replaced, never
    /// written through.
    @discardableResult
    public func writeFile(
        _ name: String, _ contents: some Collection<UInt8>, mode: mode_t = 0o644,
        owner: Ownership? = nil
    ) throws(SystemError) -> Bool {
        let bytes = Array(contents)
        if try holds(name, bytes, mode: mode, owner: owner ?? .root) { return false }
        let file = try createTemporary(beside: name, mode: mode, owner: owner)
        do throws(SystemError) {
            try file.write(bytes)
            try file.sync()
            try rename(file.name, to: name)
        } catch {
            _ = try? remove(file.name)
            throw error
        }
        try sync()
        return true
    }

    /// `writeFile` for text.
    @discardableResult
    public func writeFile(_ name: String, text: String, mode: mode_t = 0o644, owner: Ownership? = nil) throws(SystemError) -> Bool {
        try writeFile(name, Array(text.utf8), mode: mode, owner: owner)
    }

    /// A new, empty file for streaming writes (an unpacked archive member),
    /// created with `O_CREAT | O_EXCL | O_NOFOLLOW` and given `owner` and
    /// `mode` on its descriptor. Fails if `name` exists in any form.
    public func createFile(_ name: String, mode: mode_t, owner: Ownership? = nil) throws(SystemError) -> OpenFile {
        try Self.checkName(name, in: self)
        let fd = openat(descriptor, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw SystemError("create", childPath(name)) }
        let file = OpenFile(descriptor: fd, name: name, path: childPath(name))
        try file.setAttributes(mode: mode, owner: owner)
        return file
    }

    /// Opens an existing regular file for reading with `O_NOFOLLOW`.
    public func openFile(_ name: String) throws(SystemError) -> OpenFile {
        try Self.checkName(name, in: self)
        let fd = openat(descriptor, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { throw SystemError("open", childPath(name)) }
        let file = OpenFile(descriptor: fd, name: name, path: childPath(name))
        guard try file.status().kind == .regular else {
            throw SystemError("open", childPath(name), code: EINVAL, reason: "it is not a regular file")
        }
        return file
    }

    /// renameat(2) within this folder: atomic, replacing `newName` (a link
    /// there is replaced, not followed).
    public func rename(_ name: String, to newName: String) throws(SystemError) {
        try Self.checkName(name, in: self)
        try Self.checkName(newName, in: self)
        guard renameat(descriptor, name, descriptor, newName) == 0 else {
            throw SystemError("rename \(childPath(name)) onto", childPath(newName))
        }
    }

    /// renameat(2) from this folder into `other` (same file system).
    public func move(_ name: String, to other: Directory, as newName: String) throws(SystemError) {
        try Self.checkName(name, in: self)
        try Self.checkName(newName, in: other)
        guard renameat(descriptor, name, other.descriptor, newName) == 0 else {
            throw SystemError("rename \(childPath(name)) onto", other.childPath(newName))
        }
    }

    /// unlinkat(2) of a file or link; an absent one is fine. Returns whether one was removed.
    @discardableResult
    public func remove(_ name: String) throws(SystemError) -> Bool {
        try Self.checkName(name, in: self)
        if unlinkat(descriptor, name, 0) == 0 { return true }
        if errno == ENOENT { return false }
        if errno == EISDIR { return try removeTree(name) }
        throw SystemError("remove", childPath(name))
    }

    /// Removes `name` and everything below it without following any link
    /// (each folder entered with `O_NOFOLLOW`, entries removed with
    /// unlinkat(2)). An absent one is fine. Returns whether one was removed.
    @discardableResult
    public func removeTree(_ name: String) throws(SystemError) -> Bool {
        guard let info = try status(name) else { return false }
        if info.kind == .directory {
            let folder = try child(name)
            for entry in try folder.entries() { try folder.removeTree(entry) }
            guard unlinkat(descriptor, name, AT_REMOVEDIR) == 0 || errno == ENOENT else {
                throw SystemError("remove folder", childPath(name))
            }
            return true
        }
        guard unlinkat(descriptor, name, 0) == 0 || errno == ENOENT else { throw SystemError("remove", childPath(name)) }
        return true
    }

    /// readlinkat(2); nil when `name` is not a symbolic link.
    public func linkTarget(_ name: String) throws(SystemError) -> String? {
        try Self.checkName(name, in: self)
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let length = readlinkat(descriptor, name, &buffer, buffer.count - 1)
        guard length >= 0 else {
            if errno == ENOENT || errno == EINVAL { return nil }
            throw SystemError("read link", childPath(name))
        }
        return String(decoding: buffer[..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Points the symbolic link `name` at `target`, atomically: symlinkat(2)
    /// under a new name, then renameat(2) over `name`. Returns whether it changed.
    @discardableResult
    public func pointLink(_ name: String, at target: String) throws(SystemError) -> Bool {
        if try linkTarget(name) == target { return false }
        let temporary = Self.temporaryName(for: name)
        guard symlinkat(target, descriptor, temporary) == 0 else { throw SystemError("create link", childPath(temporary)) }
        do throws(SystemError) { try rename(temporary, to: name) } catch {
            _ = try? remove(temporary)
            throw error
        }
        try sync()
        return true
    }

    /// symlinkat(2): a new link `name` -> `target` (fails if `name` exists).
    public func makeLink(_ name: String, to target: String) throws(SystemError) {
        try Self.checkName(name, in: self)
        guard symlinkat(target, descriptor, name) == 0 else { throw SystemError("create link", childPath(name)) }
    }

    /// linkat(2) without `AT_SYMLINK_FOLLOW`: a new hard link `newName` in
    /// `other` to the existing file `name` here.
    public func hardLink(_ name: String, to other: Directory, as newName: String) throws(SystemError) {
        try Self.checkName(name, in: self)
        try Self.checkName(newName, in: other)
        guard linkat(descriptor, name, other.descriptor, newName, 0) == 0 else {
            throw SystemError("link \(childPath(name)) as", other.childPath(newName))
        }
    }

    // MARK: Helpers

    /// The path of an entry, for messages.
    public func childPath(_ name: String) -> String { path == "/" ? "/" + name : path + "/" + name }

    private func holds(_ name: String, _ bytes: [UInt8], mode: mode_t, owner: Ownership) throws(SystemError) -> Bool {
        guard let info = try status(name), info.kind == .regular, info.permissions == mode, info.owner == owner,
            info.size == Int64(bytes.count)
        else { return false }
        return try readFile(name, limit: max(bytes.count, 1)) == bytes
    }

    private func createTemporary(beside name: String, mode: mode_t, owner: Ownership?) throws(SystemError) -> OpenFile {
        for _ in 0..<8 {
            do throws(SystemError) {
                return try createFile(Self.temporaryName(for: name), mode: mode, owner: owner)
            } catch  where error.code == EEXIST {
                continue  // someone took the name: take another
            }
        }
        throw SystemError("create a temporary file for", childPath(name), code: EEXIST)
    }

    /// ".NAME.<random>.tmp": hidden, unguessable, beside its target.
    static func temporaryName(for name: String) -> String {
        ".\(name.prefix(200)).\(String(UInt64.random(in: 1...UInt64.max), radix: 36)).tmp"
    }

    /// One path component: not empty, not "." or "..", no "/" or NUL.
    static func checkName(_ name: String, in directory: Directory) throws(SystemError) {
        guard !name.isEmpty, name != ".", name != "..", !name.utf8.contains(UInt8(ascii: "/")), !name.utf8.contains(0),
            name.utf8.count <= 255
        else {
            throw SystemError("use", directory.childPath(name), code: EINVAL, reason: "it is not a single file name")
        }
    }
}
