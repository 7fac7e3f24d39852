#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The checks on single values that the decoder applies. Each returns nil
/// when the value is fine, or the message and hint for a diagnostic.
enum FieldRules {
    typealias Problem = (message: String, hint: String)

    /// Linux user and group names as useradd on every target accepts them.
    static func userName(_ name: String) -> Problem? {
        let chars = Array(name.utf8)
        let first: (UInt8) -> Bool = { $0 == UInt8(ascii: "_") || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains($0) }
        let rest: (UInt8) -> Bool = { first($0) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) || $0 == UInt8(ascii: "-") }
        guard let head = chars.first, first(head), chars.count <= 32, chars.dropFirst().allSatisfy(rest) else {
            return ("\(quoted(name)) is not a valid name (^[a-z_][a-z0-9_-]{0,31}$)",
                    "use at most 32 lowercase letters, digits, '_' or '-', starting with a letter or '_'")
        }
        if name == "root" {
            return ("the workspace user cannot be root", "choose an unprivileged name such as coder")
        }
        return nil
    }

    /// Kubernetes-style DNS label parts (owner and workspace name end up in
    /// object names and a Service's DNS name).
    static func dnsLabel(_ value: String) -> Problem? {
        let ok = !value.isEmpty && value.count <= 63
            && value.utf8.allSatisfy { isLowerAlnum($0) || $0 == UInt8(ascii: "-") }
            && isLowerAlnum(value.utf8.first!) && isLowerAlnum(value.utf8.last!)
        return ok ? nil : ("\(quoted(value)) is not a DNS label",
                           "use lowercase letters, digits and '-', starting and ending with a letter or digit, at most 63")
    }

    static func hostname(_ value: String) -> Problem? {
        let labels = value.split(separator: ".", omittingEmptySubsequences: false)
        if value.count > 253 || labels.contains(where: { dnsLabel(String($0)) != nil }) {
            return ("\(quoted(value)) is not a valid host name", "use dot-separated DNS labels (lowercase letters, digits, '-')")
        }
        return nil
    }

    /// An absolute URL with one of `schemes` and a host.
    static func url(_ value: String, schemes: Set<String> = ["http", "https"]) -> Problem? {
        guard let url = URL(string: value), let scheme = url.scheme?.lowercased(),
              let host = url.host, !host.isEmpty else {
            return ("\(quoted(value)) is not an absolute URL", "write it with a scheme and host, e.g. https://coder.example.com/")
        }
        guard schemes.contains(scheme) else {
            return ("URL scheme \(quoted(scheme)) is not supported", "use \(schemes.sorted().joined(separator: " or "))")
        }
        if value.contains(where: { $0.isWhitespace || $0.isNewline }) {
            return ("URL contains white space", "percent-encode it or remove it")
        }
        return nil
    }

    static func absolutePath(_ value: String) -> Problem? {
        guard value.hasPrefix("/"), !value.contains(where: \.isNewline), !value.split(separator: "/").contains("..") else {
            return ("\(quoted(value)) is not an absolute path", "write a path starting with / and without '..'")
        }
        return nil
    }

    static func port(_ value: Int) -> Problem? {
        (1...65535).contains(value) ? nil : ("\(value) is not a TCP port", "use a number from 1 to 65535")
    }

    static func sha256Hex(_ value: String) -> Problem? {
        value.count == 64 && value.utf8.allSatisfy(isHexDigit) ? nil
            : ("\(quoted(value)) is not a SHA-256 digest", "write the 64 hex digits that `sha256sum FILE` prints")
    }

    /// `MAJOR.MINOR.PATCH`: it becomes part of a directory name under /opt.
    static func releaseVersion(_ value: String) -> Problem? {
        let parts = value.split(separator: ".", omittingEmptySubsequences: false)
        let ok = parts.count == 3 && parts.allSatisfy { !$0.isEmpty && $0.utf8.allSatisfy(isDigit) }
        return ok ? nil : ("\(quoted(value)) is not a release version", "write it as MAJOR.MINOR.PATCH, e.g. 4.96.4 (no leading v)")
    }

    /// An HTTP header name (RFC 9110 token) or a value without line breaks.
    static func headerName(_ value: String) -> Problem? {
        let token = Set("!#$%&'*+-.^_`|~".utf8)
        let ok = !value.isEmpty && value.utf8.allSatisfy { isAlnum($0) || token.contains($0) }
        return ok ? nil : ("\(quoted(value)) is not an HTTP header name", "use letters, digits and -")
    }

    static func headerValue(_ value: String) -> Problem? {
        value.contains(where: \.isNewline)
            ? ("header value contains a line break", "put the value on one line") : nil
    }

    /// A VS Code marketplace id: `publisher.name`, optionally `@version`.
    static func extensionID(_ value: String) -> Problem? {
        let id = value.split(separator: "@", maxSplits: 1).first.map(String.init) ?? ""
        let parts = id.split(separator: ".", omittingEmptySubsequences: false)
        let ok = parts.count == 2 && parts.allSatisfy { !$0.isEmpty && $0.utf8.allSatisfy { isAlnum($0) || $0 == UInt8(ascii: "-") } }
        return ok ? nil : ("\(quoted(value)) is not an extension id", "write publisher.name, e.g. ms-python.python")
    }

    /// One PEM certificate (or several concatenated), each block's base64 decodable.
    static func pemCertificates(_ value: String) -> Problem? {
        let begin = "-----BEGIN CERTIFICATE-----", end = "-----END CERTIFICATE-----"
        var rest = Substring(value)
        var count = 0
        while let start = rest.firstRange(of: begin) {
            guard let stop = rest[start.upperBound...].firstRange(of: end) else {
                return ("certificate \(count + 1) has no \(end) line", "paste the whole PEM block")
            }
            let body = rest[start.upperBound..<stop.lowerBound].filter { !$0.isWhitespace }
            guard Data(base64Encoded: String(body)) != nil else {
                return ("certificate \(count + 1) is not valid base64", "paste the PEM block unchanged")
            }
            count += 1
            rest = rest[stop.upperBound...]
        }
        return count > 0 ? nil : ("no PEM certificate found", "paste a block that starts with \(begin)")
    }

    /// code-server's `hashed-password`: an argon2 PHC string or a SHA-256 hex.
    static func hashedPassword(_ value: String) -> Problem? {
        value.hasPrefix("$argon2") || sha256Hex(value) == nil ? nil
            : ("not a hashed password", "give an argon2 hash (`echo -n PASSWORD | npx argon2-cli -e`) or a SHA-256 hex, never the password itself")
    }

    static func quoted(_ value: String) -> String {
        let shown = value.count > 60 ? String(value.prefix(57)) + "..." : value
        return "\"" + shown.replacing("\n", with: "\\n") + "\""
    }

    private static func isDigit(_ c: UInt8) -> Bool { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(c) }
    private static func isLowerAlnum(_ c: UInt8) -> Bool { isDigit(c) || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(c) }
    private static func isAlnum(_ c: UInt8) -> Bool { isLowerAlnum(c) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(c) }
    private static func isHexDigit(_ c: UInt8) -> Bool {
        isDigit(c) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(c) || (UInt8(ascii: "A")...UInt8(ascii: "F")).contains(c)
    }
}

/// `HOST:PORT` or `[V6]:PORT`.
public struct HostPort: Equatable, Sendable {
    public var host: String
    public var port: Int

    public init?(_ text: String) {
        let hostPart: Substring, portPart: Substring
        if text.hasPrefix("["), let close = text.firstIndex(of: "]") {
            hostPart = text[text.index(after: text.startIndex)..<close]
            let after = text[text.index(after: close)...]
            guard after.hasPrefix(":") else { return nil }
            portPart = after.dropFirst()
        } else {
            guard let colon = text.lastIndex(of: ":") else { return nil }
            hostPart = text[..<colon]
            portPart = text[text.index(after: colon)...]
        }
        guard !hostPart.isEmpty, let port = Int(portPart), (1...65535).contains(port) else { return nil }
        host = String(hostPart)
        self.port = port
    }

    /// Only this machine can connect: 127.0.0.0/8, ::1 or localhost.
    public var isLoopback: Bool {
        host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }
}
