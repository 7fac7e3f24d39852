import Glibc

/// A file the daemon opened through a `Directory` (never by path), for
/// streaming writes or for looking at what it holds.
public final class OpenFile: @unchecked Sendable {  // one user at a time
    let descriptor: Int32
    /// Its name in the folder it was opened in.
    public let name: String
    /// For messages.
    public let path: String

    init(descriptor: Int32, name: String, path: String) {
        self.descriptor = descriptor
        self.name = name
        self.path = path
    }

    /// close(2)
    deinit { close(descriptor) }

    /// write(2) until all of `bytes` is written.
    public func write(_ bytes: UnsafeRawBufferPointer) throws(SystemError) {
        guard FileContents.writeAll(descriptor, bytes) else { throw SystemError("write", path) }
    }

    public func write(_ bytes: [UInt8]) throws(SystemError) {
        let written = bytes.withUnsafeBytes { FileContents.writeAll(descriptor, $0) }
        guard written else { throw SystemError("write", path) }
    }

    /// fsync(2)
    public func sync() throws(SystemError) {
        guard fsync(descriptor) == 0 else { throw SystemError("fsync", path) }
    }

    /// fstat(2)
    public func status() throws(SystemError) -> FileStatus {
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { throw SystemError("stat", path) }
        return FileStatus(info)
    }

    /// fchown(2) then fchmod(2) on the descriptor (the owner first: a chown
    /// may clear mode bits).
    public func setAttributes(mode: mode_t, owner: Ownership?) throws(SystemError) {
        if let owner, fchown(descriptor, owner.uid, owner.gid) != 0 { throw SystemError("chown", path) }
        guard fchmod(descriptor, mode) == 0 else { throw SystemError("chmod", path) }
    }

    /// read(2) from where the file stands to its end, in chunks of up to
    /// `size` bytes, each passed to `body` (valid only during the call).
    public func readChunks(size: Int = 256 * 1024, _ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 16)
        defer { buffer.deallocate() }
        while true {
            let count = Glibc.read(descriptor, buffer.baseAddress, size)
            if count == 0 { return }
            if count < 0 {
                if errno == EINTR { continue }
                throw SystemError("read", path)
            }
            try body(UnsafeRawBufferPointer(rebasing: buffer[..<count]))
        }
    }

    /// pread(2) of up to `count` bytes from the start: the first bytes of a
    /// file, to tell what kind of file it is.
    public func prefix(_ count: Int) throws(SystemError) -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: count)
        let read = buffer.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, count, 0) }
        guard read >= 0 else { throw SystemError("read", path) }
        return Array(buffer.prefix(read))
    }
}

/// Whole-file reads and writes on a descriptor, shared by the file types.
enum FileContents {
    /// write(2) until done, retrying short writes and EINTR; false with errno set.
    static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let count = Glibc.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if count < 0 {
                if errno == EINTR { continue }
                return false
            }
            offset += count
        }
        return true
    }

    /// read(2) to the end, failing beyond `limit` bytes.
    static func readAll(_ fd: Int32, path: String, limit: Int) throws(SystemError) -> [UInt8] {
        var content: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if count == 0 { return content }
            if count < 0 {
                if errno == EINTR { continue }
                throw SystemError("read", path)
            }
            content.append(contentsOf: buffer[..<count])
            if content.count > limit { throw SystemError("read", path, code: EFBIG, reason: "it is larger than \(limit) bytes") }
        }
    }
}
