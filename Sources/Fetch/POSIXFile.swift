// The few file system calls Fetch needs, with errno turned into FetchError.
#if canImport(Glibc)
import Glibc
#endif

enum POSIXFile {
    static func exists(_ path: String) -> Bool {
        access(path, F_OK) == 0
    }

    /// Size in bytes, nil if there is no such file.
    static func size(_ path: String) -> Int64? {
        var info = stat()
        return stat(path, &info) == 0 ? Int64(info.st_size) : nil
    }

    /// The whole content of a small file (an ETag, a CA bundle).
    static func read(_ path: String) throws(FetchError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .file(operation: "open", path: path, errno: errno) }
        defer { close(fd) }
        var content: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if count == 0 { return content }
            if count < 0 {
                if errno == EINTR { continue }
                throw .file(operation: "read", path: path, errno: errno)
            }
            content.append(contentsOf: buffer[..<count])
        }
    }

    /// Writes all of `bytes` to `fd`, retrying short writes; false with errno
    /// set on failure.
    static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let count = write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if count < 0 {
                if errno == EINTR { continue }
                return false
            }
            offset += count
        }
        return true
    }

    /// Replaces `path` with `bytes` through a temporary file and rename, so a
    /// reader sees the old content or the new, never a mix.
    static func replace(_ path: String, with bytes: [UInt8], mode: mode_t = 0o644) throws(FetchError) {
        let temporary = path + ".tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        guard fd >= 0 else { throw .file(operation: "create", path: temporary, errno: errno) }
        let written = bytes.withUnsafeBytes { writeAll(fd, $0) } && fsync(fd) == 0
        let writeError = errno
        close(fd)
        guard written else {
            unlink(temporary)
            throw .file(operation: "write", path: temporary, errno: writeError)
        }
        try rename(temporary, to: path)
    }

    static func rename(_ from: String, to path: String) throws(FetchError) {
        guard Glibc.rename(from, path) == 0 else {
            throw .file(operation: "rename to \(path)", path: from, errno: errno)
        }
    }

    /// unlink, ignoring a file that is already gone.
    static func remove(_ path: String) throws(FetchError) {
        guard unlink(path) == 0 || errno == ENOENT else {
            throw .file(operation: "remove", path: path, errno: errno)
        }
    }

    /// Makes renames in `directory` durable: without it, a power cut after
    /// the rename may bring back the old name.
    static func syncDirectory(_ directory: String) throws(FetchError) {
        let fd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw .file(operation: "open", path: directory, errno: errno) }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw .file(operation: "fsync", path: directory, errno: errno) }
    }
}
