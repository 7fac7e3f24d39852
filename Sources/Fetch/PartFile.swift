// The partial download: what a transfer writes into, and what a later
// attempt (or the next boot) resumes from.
#if canImport(Glibc)
import Glibc
#endif

/// ".<name>.part", beside the destination so the final rename stays on one
/// file system and is atomic.
final class PartFile {
    let path: String
    /// -1 once finish() closed it.
    private var fd: Int32
    /// Bytes in the file, which is where a resume starts.
    private(set) var size: Int64

    /// Opens the existing partial file, or creates an empty one.
    init(path: String) throws(FetchError) {
        self.path = path
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw .file(operation: "create", path: path, errno: errno) }
        let end = lseek(fd, 0, SEEK_END)
        guard end >= 0 else {
            let error = errno
            close(fd)
            throw .file(operation: "seek", path: path, errno: error)
        }
        size = Int64(end)
    }

    deinit { if fd >= 0 { close(fd) } }

    /// Appends body bytes.
    func append(_ bytes: UnsafeRawBufferPointer) throws(FetchError) {
        guard POSIXFile.writeAll(fd, bytes) else {
            throw .file(operation: "write", path: path, errno: errno)
        }
        size += Int64(bytes.count)
    }

    /// Hands the bytes already in the file to `body`, in order, 256 KiB at a time.
    func replay(_ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 256 * 1024, alignment: 16)
        defer { buffer.deallocate() }
        var offset: Int64 = 0
        while offset < size {
            let count = pread(fd, buffer.baseAddress, Int(min(Int64(buffer.count), size - offset)), off_t(offset))
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else {
                throw FetchError.file(operation: "read", path: path, errno: count == 0 ? EIO : errno)
            }
            try body(UnsafeRawBufferPointer(rebasing: buffer[..<count]))
            offset += Int64(count)
        }
    }

    /// Empties the file, for a download that must start again from byte 0.
    func truncate() throws(FetchError) {
        guard ftruncate(fd, 0) == 0, lseek(fd, 0, SEEK_SET) == 0 else {
            throw .file(operation: "truncate", path: path, errno: errno)
        }
        size = 0
    }

    /// Sets the mode the file will be installed with, flushes it to disk and
    /// closes it: a file still open for writing cannot be executed (ETXTBSY),
    /// and a verify hook may run it.
    func finish(mode: mode_t) throws(FetchError) {
        guard fchmod(fd, mode) == 0 else { throw .file(operation: "chmod", path: path, errno: errno) }
        guard fsync(fd) == 0 else { throw .file(operation: "fsync", path: path, errno: errno) }
        close(fd)
        fd = -1
    }
}
