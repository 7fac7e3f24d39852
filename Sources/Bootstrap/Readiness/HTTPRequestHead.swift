/// The first line of an HTTP/1.x request, as far as a readiness probe needs:
/// the method and the path. Anything else in the head is ignored but bounded.
///
/// The readiness endpoint answers three fixed GET routes to kubelet's prober.
/// An HTTP library that fits the daemon's limits was not to be had (see
/// README, "Readiness endpoint"), so this parser is deliberately tiny, total
/// (no input crashes it; fuzzed in the tests) and strict.
public struct HTTPRequestHead: Equatable, Sendable {
    public static let maximumSize = 4096

    public var method: String
    public var path: String

    public enum ParseError: Error, Equatable {
        /// The head has not ended yet (no blank line); read more.
        case incomplete
        /// Over `maximumSize` bytes without ending: 431.
        case tooLarge
        /// Not an HTTP/1.x request line: 400.
        case malformed
    }

    /// Parses the bytes received so far.
    public static func parse(_ bytes: some Collection<UInt8>) throws(ParseError) -> HTTPRequestHead {
        let bytes = Array(bytes.prefix(maximumSize + 1))
        guard let end = headEnd(bytes) else {
            throw bytes.count > maximumSize ? .tooLarge : .incomplete
        }
        guard end <= maximumSize else { throw .tooLarge }
        let lineEnd = bytes.firstIndex(of: UInt8(ascii: "\r")) ?? bytes.firstIndex(of: UInt8(ascii: "\n")) ?? end
        let parts = bytes[..<lineEnd].split(separator: UInt8(ascii: " "), omittingEmptySubsequences: false)
        guard parts.count == 3,
            let method = String(validating: parts[0], as: UTF8.self),
            let target = String(validating: parts[1], as: UTF8.self),
            let version = String(validating: parts[2], as: UTF8.self),
            version == "HTTP/1.1" || version == "HTTP/1.0",
            !method.isEmpty, method.utf8.allSatisfy({ (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains($0) }),
            target.hasPrefix("/"), target.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7f })
        else { throw .malformed }
        let path = target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? target
        return HTTPRequestHead(method: method, path: path)
    }

    /// Index just past the blank line that ends the head (CRLF CRLF, or LF
    /// LF), looking from `start` on. A reader that gets the head in pieces
    /// passes where its last look ended, less 2 (a blank line cut in two),
    /// so each byte is looked at a bounded number of times.
    static func headEnd(_ bytes: [UInt8], from start: Int = 0) -> Int? {
        var index = max(0, start)
        while index < bytes.count {
            if bytes[index] == UInt8(ascii: "\n") {
                if index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "\n") { return index + 2 }
                if index + 2 < bytes.count, bytes[index + 1] == UInt8(ascii: "\r"), bytes[index + 2] == UInt8(ascii: "\n") {
                    return index + 3
                }
            }
            index += 1
        }
        return nil
    }
}
