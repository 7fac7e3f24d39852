import CSystemd

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Native journald submission.
public enum Journal {
    /// Where journald listens for native-protocol datagrams. libsystemd
    /// hard-codes this path.
    public static let socketPath = "/run/systemd/journal/socket"

    /// One `NAME=value` field of a journal entry. The name must already be
    /// valid (see `JournalFieldName`); values may hold any bytes, including
    /// newlines.
    public struct Field: Sendable, Hashable {
        public var name: String
        public var value: String

        public init(_ name: String, _ value: String) {
            self.name = name
            self.value = value
        }
    }

    /// Whether journald's native socket exists (`stat(2)`, `S_ISSOCK`).
    public static var isAvailable: Bool {
        var st = stat()
        guard stat(socketPath, &st) == 0 else { return false }
        return (st.st_mode & S_IFMT) == S_IFSOCK
    }

    /// Submits one entry. Wraps `sd_journal_sendv(3)`.
    ///
    /// libsystemd chooses the binary-safe encoding for values containing a
    /// newline, and passes oversized entries through a memfd. It treats a
    /// missing socket as success (the entry is dropped): check
    /// `isAvailable` first where that matters.
    public static func send(_ fields: [Field]) throws(SystemdError) {
        // One contiguous buffer, with iovecs pointing into it: no per-field
        // allocation and the pointers stay valid for the whole call.
        var buffer: [UInt8] = []
        var ranges: [Range<Int>] = []
        buffer.reserveCapacity(fields.reduce(0) { $0 + $1.name.utf8.count + $1.value.utf8.count + 1 })
        ranges.reserveCapacity(fields.count)
        for field in fields {
            let start = buffer.count
            buffer.append(contentsOf: field.name.utf8)
            buffer.append(UInt8(ascii: "="))
            buffer.append(contentsOf: field.value.utf8)
            ranges.append(start..<buffer.count)
        }
        let r: Int32 = buffer.withUnsafeMutableBytes { raw in
            let base = raw.baseAddress
            var iov = ranges.map { range in
                iovec(iov_base: base.map { $0 + range.lowerBound }, iov_len: range.count)
            }
            return iov.withUnsafeMutableBufferPointer { sd_journal_sendv($0.baseAddress, Int32($0.count)) }
        }
        if r < 0 { throw SystemdError(function: "sd_journal_sendv", returnValue: r) }
    }
}
