import Glibc

/// This process's program code and read-only data: the read-only mappings
/// of its own executable and of the shared libraries it has loaded.
public enum ProgramCode {
    /// Moves them out of the resident set: madvise(2) MADV_DONTNEED on
    /// every private `r-xp` or `r--p` mapping of a file in /proc/self/smaps
    /// that holds no anonymous page, resident or swapped out. Its pages are then the file's own
    /// pages in the page cache, never copied on a write: they stay there,
    /// and a page touched again comes back from there (a minor fault, no
    /// disk read). The `r--p` ones are mostly what the dynamic loader read
    /// once (symbol tables, relocations): libstdc++'s alone kept 680 KiB
    /// resident. Not "no dirty page": a program installed a moment ago is
    /// dirty in the page cache until it is written back, and those pages
    /// are still the file's. A library's pages are shared with the other
    /// processes that map it, so this lowers the RSS more than the Pss.
    /// Nothing else is advised: a mapping with a page copied on a write
    /// (RELRO, relocated once and then made read-only; text relocations),
    /// writable and anonymous mappings and the vDSO hold data that would
    /// be lost.
    ///
    /// - Returns: the bytes advised.
    @discardableResult
    public static func dropResidentPages() throws(SystemError) -> Int {
        let smaps = try Directory.system("/proc/self").readFile("smaps", limit: 64 << 20) ?? []
        var advised = 0
        for mapping in mappings(inSmaps: String(decoding: smaps, as: UTF8.self)) where mapping.holdsOnlyFilePages {
            let length = Int(mapping.end - mapping.start)
            if madvise(UnsafeMutableRawPointer(bitPattern: mapping.start), length, MADV_DONTNEED) == 0 { advised += length }
        }
        return advised
    }

    /// One mapping of /proc/PID/smaps: its header line ("start-end perms
    /// offset dev inode path") and its Anonymous and Swap fields (pages
    /// copied on a write, resident or swapped out).
    struct Mapping: Equatable {
        var start: UInt
        var end: UInt
        var permissions: Substring
        var path: Substring
        var anonymousKiB = 0
        /// Its pages copied on a write and swapped out since, which
        /// `Anonymous` no longer counts.
        var swapKiB = 0

        /// Code or read-only data of a file, never written since.
        var holdsOnlyFilePages: Bool {
            (permissions == "r-xp" || permissions == "r--p") && path.hasPrefix("/") && anonymousKiB == 0 && swapKiB == 0
        }
    }

    /// The mappings in the text of a /proc/PID/smaps, in its order.
    static func mappings(inSmaps text: String) -> [Mapping] {
        var mappings: [Mapping] = []
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ", maxSplits: 5, omittingEmptySubsequences: true)
            guard let first = fields.first else { continue }
            if first.hasSuffix(":") {
                guard fields.count >= 2, let kib = Int(fields[1]), !mappings.isEmpty else { continue }
                if first == "Anonymous:" { mappings[mappings.count - 1].anonymousKiB = kib }
                if first == "Swap:" { mappings[mappings.count - 1].swapKiB = kib }
                continue
            }
            let bounds = first.split(separator: "-")
            guard fields.count >= 5, bounds.count == 2, let start = UInt(bounds[0], radix: 16),
                let end = UInt(bounds[1], radix: 16), start < end
            else { continue }
            mappings.append(
                Mapping(start: start, end: end, permissions: fields[1], path: fields.count == 6 ? fields[5].drop(while: { $0 == " " }) : ""))
        }
        return mappings
    }
}
