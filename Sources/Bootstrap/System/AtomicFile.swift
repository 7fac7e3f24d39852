#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc

/// Writes a file so that readers see the old contents or the new, never a
/// part: a temporary file in the same directory is written with its final
/// mode and owner from the start (a secret is never readable by others, not
/// even briefly), fsync'ed, renamed over the target, and the directory fsync'ed.
public enum AtomicFile {
    public struct Failure: Error, CustomStringConvertible {
        public var path: String
        public var step: String
        public var errno: Int32
        public var description: String { "cannot \(step) \(path): \(String(cString: strerror(errno)))" }
    }

    /// Writes `contents` to `path` unless it already holds exactly that with
    /// the same mode and owner. Returns whether anything changed.
    @discardableResult
    public static func write(_ contents: some Collection<UInt8>, to path: String, mode: mode_t = 0o644,
                             owner: (uid: uid_t, gid: gid_t)? = nil) throws(Failure) -> Bool {
        let bytes = Array(contents)
        if isCurrent(path, bytes: bytes, mode: mode, owner: owner) { return false }
        let directory = FilePathParts(path: path).directory
        try makeDirectories(directory)
        let temporary = "\(directory)/.\(FilePathParts(path: path).lastComponent).\(getpid()).tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode)
        guard fd >= 0 else { throw Failure(path: temporary, step: "create", errno: errno) }
        var failure: Failure?
        if fchmod(fd, mode) != 0 { failure = Failure(path: temporary, step: "chmod", errno: errno) }
        if failure == nil, let owner, fchown(fd, owner.uid, owner.gid) != 0 {
            failure = Failure(path: temporary, step: "chown", errno: errno)
        }
        var offset = 0
        while failure == nil, offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if written < 0 {
                if errno == EINTR { continue }
                failure = Failure(path: temporary, step: "write", errno: errno)
            } else {
                offset += written
            }
        }
        if failure == nil, fsync(fd) != 0 { failure = Failure(path: temporary, step: "fsync", errno: errno) }
        close(fd)
        if failure == nil, rename(temporary, path) != 0 { failure = Failure(path: path, step: "rename onto", errno: errno) }
        if let failure {
            unlink(temporary)
            throw failure
        }
        syncDirectory(directory)
        return true
    }

    public static func write(_ text: String, to path: String, mode: mode_t = 0o644,
                             owner: (uid: uid_t, gid: gid_t)? = nil) throws(Failure) -> Bool {
        try write(Array(text.utf8), to: path, mode: mode, owner: owner)
    }

    /// Creates `path` and its parents (mode 0755) when missing.
    public static func makeDirectories(_ path: String, mode: mode_t = 0o755) throws(Failure) {
        var current = ""
        for part in path.split(separator: "/") {
            current += "/" + part
            if mkdir(current, mode) != 0, errno != EEXIST {
                throw Failure(path: current, step: "create directory", errno: errno)
            }
        }
    }

    /// fsync(2) on a directory, so a rename in it survives a power cut.
    public static func syncDirectory(_ path: String) {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return }
        fsync(fd)
        close(fd)
    }

    private static func isCurrent(_ path: String, bytes: [UInt8], mode: mode_t, owner: (uid: uid_t, gid: gid_t)?) -> Bool {
        var info = stat()
        guard lstat(path, &info) == 0, info.st_mode & S_IFMT == S_IFREG, info.st_mode & 0o7777 == mode,
              owner.map({ $0.uid == info.st_uid && $0.gid == info.st_gid }) ?? true,
              Int(info.st_size) == bytes.count,
              let existing = FileManager.default.contents(atPath: path) else { return false }
        return existing.elementsEqual(bytes)
    }
}

/// Path pieces without Foundation's NSString.
struct FilePathParts {
    var path: String
    var directory: String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }
    var lastComponent: String { path.split(separator: "/").last.map(String.init) ?? path }
}
