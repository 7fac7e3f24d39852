import Glibc

/// This process's own program code: the executable-only mappings of its
/// own executable file.
public enum OwnExecutableCode {
    /// Moves start-up-only code out of the resident set: madvise(2)
    /// MADV_DONTNEED on every `r-xp` line of /proc/self/maps whose path is
    /// the target of /proc/self/exe. Those pages are clean copies of the
    /// file (the code segment has no text relocations, so it is never
    /// written): they stay in the page cache, and a page touched again comes
    /// back from there (a minor fault, no disk read). Nothing else is
    /// advised: writable, read-only (RELRO) and anonymous mappings hold
    /// relocated or written data that would be lost.
    ///
    /// - Returns: the bytes advised.
    @discardableResult
    public static func dropResidentPages() throws(SystemError) -> Int {
        let executable = try ownExecutablePath()
        let maps = try Directory.system("/proc/self").readFile("maps", limit: 16 << 20) ?? []
        var advised = 0
        for line in String(decoding: maps, as: UTF8.self).split(separator: "\n") {
            guard let range = codeRange(line, of: executable) else { continue }
            let length = Int(range.end - range.start)
            if madvise(UnsafeMutableRawPointer(bitPattern: range.start), length, MADV_DONTNEED) == 0 { advised += length }
        }
        return advised
    }

    /// The address range of a /proc/PID/maps line ("start-end perms offset
    /// dev inode path") when it maps `executable` readable and executable,
    /// never writable, privately.
    static func codeRange(_ line: Substring, of executable: String) -> (start: UInt, end: UInt)? {
        let fields = line.split(separator: " ", maxSplits: 5, omittingEmptySubsequences: true)
        guard fields.count == 6, fields[1] == "r-xp" else { return nil }
        guard fields[5].drop(while: { $0 == " " }) == executable else { return nil }
        let bounds = fields[0].split(separator: "-")
        guard bounds.count == 2, let start = UInt(bounds[0], radix: 16), let end = UInt(bounds[1], radix: 16),
            start < end
        else { return nil }
        return (start, end)
    }

    /// readlink(2) of /proc/self/exe: the path the kernel shows in maps.
    private static func ownExecutablePath() throws(SystemError) -> String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let length = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard length > 0 else { throw SystemError("readlink", "/proc/self/exe") }
        return String(decoding: buffer[..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
