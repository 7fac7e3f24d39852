// What a response says about the size of the file, checked before a byte of
// the body is taken. Every number comes from the server, so every sum is
// overflow-checked: a 206 after a resume at R with "Content-Length:
// 9223372036854775807" must fail as a bad response, not trap on R + length.

enum AnnouncedSize {
    enum Problem: Error, Equatable {
        /// The file would be larger than the limit (a number too big for
        /// 63 bits counts as larger).
        case tooLarge
        /// The numbers are malformed or contradict each other or the request.
        case invalid(String)
    }

    /// What the headers of a 2xx response announce, checked against the
    /// request (resumed at `resumedFrom`) and `limit`; either header may be
    /// missing (libcurl itself refuses a 206 without Content-Range).
    struct Announcement: Equatable {
        /// Size of the whole file, when the response tells it.
        var total: Int64?
        /// The file size once this response's body has arrived, when known:
        /// no byte beyond it is accepted.
        var end: Int64?
    }

    static func check(
        status: Int, contentLength: String?, contentRange: String?,
        resumedFrom: Int64, limit: Int64
    ) -> Result<Announcement, Problem> {
        Result { () throws(Problem) in
            let length = try contentLength.map { value throws(Problem) in try number(value, "Content-Length") }
            guard status == 206 else {
                // The whole file from byte 0.
                if let length, length > limit { throw .tooLarge }
                return Announcement(total: length, end: length)
            }
            var end: Int64?
            if let length {
                let (sum, overflow) = resumedFrom.addingReportingOverflow(length)
                guard !overflow else {
                    throw .invalid(
                        "Content-Length \(length) of a 206 resumed at byte \(resumedFrom) "
                            + "is beyond any file size")
                }
                end = sum
            }
            var total: Int64?
            if let contentRange {
                let range = try Self.range(contentRange)
                guard range.first == resumedFrom else {
                    throw .invalid("Content-Range \(contentRange) does not start at byte \(resumedFrom), as asked")
                }
                let (rangeEnd, overflow) = range.last.addingReportingOverflow(1)
                guard !overflow else { throw .invalid("Content-Range \(contentRange) is beyond any file size") }
                if let end, end != rangeEnd {
                    throw .invalid("Content-Length \(length!) does not match Content-Range \(contentRange)")
                }
                if let whole = range.total, whole != rangeEnd {
                    throw .invalid("Content-Range \(contentRange) does not run to the end of the file")
                }
                end = rangeEnd
                total = range.total
            }
            if let end, end > limit { throw .tooLarge }
            return Announcement(total: total ?? end, end: end)
        }
    }

    /// "bytes FIRST-LAST/TOTAL" or "bytes FIRST-LAST/*" (RFC 9110, 14.4).
    private static func range(_ value: String) throws(Problem) -> (first: Int64, last: Int64, total: Int64?) {
        let malformed = Problem.invalid("Content-Range \(value) is malformed")
        let trimmed = value.trimmed
        guard trimmed.lowercased().hasPrefix("bytes ") else { throw malformed }
        let spec = trimmed.dropFirst(6).trimmed
        let parts = spec.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2 else { throw malformed }
        let bounds = parts[0].split(separator: "-", omittingEmptySubsequences: false)
        guard bounds.count == 2 else { throw malformed }
        let first = try number(String(bounds[0]), "Content-Range")
        let last = try number(String(bounds[1]), "Content-Range")
        guard first <= last else { throw malformed }
        let total = parts[1] == "*" ? nil : try number(String(parts[1]), "Content-Range")
        return (first, last, total)
    }

    /// A non-negative decimal; one too large for Int64 is a file too large.
    private static func number(_ text: String, _ header: String) throws(Problem) -> Int64 {
        let digits = text.trimmed
        guard !digits.isEmpty, digits.utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) })
        else { throw .invalid("\(header) \(text.trimmed) is not a number") }
        guard let value = Int64(digits) else { throw .tooLarge }
        return value
    }
}
