// The partial download: what a transfer writes into, and what a later
// attempt (or the next boot) resumes from.
#if canImport(Glibc)
import Glibc
#endif

/// ".<name>.part", beside the destination so the final rename stays on one
/// file system and is atomic.
final class PartFile {
    let path: String
    private let fd: Int32
    /// Bytes in the file, which is where a resume starts.
    private(set) var size: Int64
    /// errno of the last failed write, for the error message.
    private(set) var writeError: Int32 = 0

    /// Opens the existing partial file, or creates an empty one.
    init(path: String) throws(FetchError) {
        self.path = path
        fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw .file(operation: "create", path: path, errno: errno) }
        let end = lseek(fd, 0, SEEK_END)
        guard end >= 0 else {
            let error = errno
            close(fd)
            throw .file(operation: "seek", path: path, errno: error)
        }
        size = Int64(end)
    }

    deinit { close(fd) }

    /// Appends body bytes; false when the disk refuses them.
    func append(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard POSIXFile.writeAll(fd, bytes) else {
            writeError = errno
            return false
        }
        size += Int64(bytes.count)
        return true
    }

    /// Empties the file, for a download that must start again from byte 0.
    func truncate() throws(FetchError) {
        guard ftruncate(fd, 0) == 0, lseek(fd, 0, SEEK_SET) == 0 else {
            throw .file(operation: "truncate", path: path, errno: errno)
        }
        size = 0
    }

    /// Flushes the content to disk and sets the mode it will be installed with.
    func finish(mode: mode_t) throws(FetchError) {
        guard fchmod(fd, mode) == 0 else { throw .file(operation: "chmod", path: path, errno: errno) }
        guard fsync(fd) == 0 else { throw .file(operation: "fsync", path: path, errno: errno) }
    }
}
