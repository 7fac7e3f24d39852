#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The checks on single values that the decoder applies. Each returns nil
/// when the value is fine, or the message and hint for a diagnostic.
///
/// The daemon is root and these values end up in systemd units,
/// EnvironmentFiles, sshd and code-server configuration and command lines,
/// so the rules describe what those places can carry safely, not merely what
/// looks plausible.
enum FieldRules {
    typealias Problem = (message: String, hint: String)

    /// No string may be longer than this many UTF-8 bytes (a PEM bundle of a
    /// few certificates fits; nothing legitimate comes close).
    static let maximumStringBytes = 64 * 1024
    /// No list or mapping may have more entries than this.
    static let maximumEntries = 256

    /// Line breaks, escapes and other controls: C0 (U+0000-U+001F), DEL,
    /// C1 (U+0080-U+009F, which holds NEL U+0085), the Unicode line and
    /// paragraph separators U+2028 and U+2029, and U+FEFF and the
    /// noncharacters, which systemd refuses in an EnvironmentFile.
    static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        let value = scalar.value
        return value < 0x20 || (0x7F...0x9F).contains(value) || value == 0x2028 || value == 0x2029
            || value == 0xFEFF || (0xFDD0...0xFDEF).contains(value) || value & 0xFFFE == 0xFFFE
    }

    /// The rule every string in the spec goes through: a control character
    /// could end a line of a unit, an EnvironmentFile or a config file and
    /// start a setting of its own. `allowing` names the few a field may hold
    /// (PEM needs line breaks).
    static func controlCharacters(_ value: String, allowing allowed: Set<Unicode.Scalar> = []) -> Problem? {
        // Nearly every value is printable ASCII throughout.
        if value.utf8.allSatisfy({ (0x20...0x7E).contains($0) }) { return nil }
        guard let (offset, scalar) = value.unicodeScalars.enumerated().first(where: { isControl($0.element) && !allowed.contains($0.element) })
        else { return nil }
        let allowedNote = allowed.isEmpty ? "" : " (here only \(allowed.map { visible(String($0)) }.sorted().joined(separator: ", ")) may appear)"
        return (
            "contains the control character \(codePoint(scalar)) at position \(offset + 1)\(allowedNote)",
            "remove it: this value is written into systemd units, environment files or configuration files, where a control character can end a line and start a setting of its own"
        )
    }

    /// Linux user names as useradd on every target accepts them.
    static func userName(_ name: String) -> Problem? {
        if let problem = groupName(name) { return problem }
        if name == "root" {
            return ("the workspace user cannot be root", "choose an unprivileged name such as coder")
        }
        return nil
    }

    /// Group names follow the same pattern as user names.
    static func groupName(_ name: String) -> Problem? {
        let chars = Array(name.utf8)
        let first: (UInt8) -> Bool = { $0 == UInt8(ascii: "_") || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains($0) }
        let rest: (UInt8) -> Bool = { first($0) || isDigit($0) || $0 == UInt8(ascii: "-") }
        guard let head = chars.first, first(head), chars.count <= 32, chars.dropFirst().allSatisfy(rest) else {
            return (
                "\(quoted(name)) is not a valid name (^[a-z_][a-z0-9_-]{0,31}$)",
                "use at most 32 lowercase letters, digits, '_' or '-', starting with a letter or '_'"
            )
        }
        return nil
    }

    /// Groups whose members can become root without sudo: raw disks, the
    /// shadow file, kernel memory, or sudo itself through the admin groups.
    static let rootEquivalentGroups: Set<String> = ["sudo", "wheel", "admin", "disk", "shadow", "kmem"]

    /// An extra group for the workspace user. `root` is never one (it owns
    /// system files); the root-equivalent groups only come with `sudo: true`,
    /// since asking for them with `sudo: false` contradicts itself.
    static func supplementaryGroup(_ name: String, sudo: Bool) -> Problem? {
        if let problem = groupName(name) { return problem }
        if name == "root" {
            return (
                "the root group owns system files; the workspace user is never in it",
                "drop root from groups; sudo: true gives administration"
            )
        }
        if !sudo, rootEquivalentGroups.contains(name) {
            return (
                "\(name) lets its members act as root, but sudo is false",
                "set user.sudo: true if the user should administer the VM, or drop \(name) from groups"
            )
        }
        return nil
    }

    /// Kubernetes-style DNS label parts (owner and workspace name end up in
    /// object names and a Service's DNS name).
    static func dnsLabel(_ value: String) -> Problem? {
        let ok =
            !value.isEmpty && value.count <= 63
            && value.utf8.allSatisfy { isLowerAlnum($0) || $0 == UInt8(ascii: "-") }
            && isLowerAlnum(value.utf8.first!) && isLowerAlnum(value.utf8.last!)
        return ok
            ? nil
            : (
                "\(quoted(value)) is not a DNS label",
                "use lowercase letters, digits and '-', starting and ending with a letter or digit, at most 63"
            )
    }

    /// What the kernel takes as a host name: dot-separated DNS labels, at
    /// most 64 characters (HOST_NAME_MAX; hostnamectl refuses longer ones).
    static func hostname(_ value: String) -> Problem? {
        let labels = value.split(separator: ".", omittingEmptySubsequences: false)
        if labels.contains(where: { dnsLabel(String($0)) != nil }) {
            return ("\(quoted(value)) is not a valid host name", "use dot-separated DNS labels (lowercase letters, digits, '-')")
        }
        if value.utf8.count > 64 {
            return ("the host name is \(value.utf8.count) characters long; Linux allows at most 64", "shorten it")
        }
        return nil
    }

    /// An absolute URL with one of `schemes` and a host, written only in the
    /// characters RFC 3986 allows: no spaces, quotes, backslashes or braces
    /// (the URL lands unquoted in EnvironmentFiles, where systemd would read
    /// backslashes and quotes as its own syntax) and no raw non-ASCII.
    static func url(_ value: String, schemes: Set<String> = ["http", "https"]) -> Problem? {
        let allowed = Set("-._~:/?#[]@!$&'()*+,;=%".utf8)
        if let bad = value.unicodeScalars.first(where: { !$0.isASCII || !(isAlnum(UInt8($0.value)) || allowed.contains(UInt8($0.value))) }) {
            return (
                "URL contains \(bad == " " ? "a space" : quoted(String(bad))), which a URL cannot hold as it is",
                "percent-encode it (and write host names in their ASCII, xn-- form)"
            )
        }
        guard let url = URL(string: value), let scheme = url.scheme?.lowercased(),
            let host = url.host, !host.isEmpty
        else {
            return ("\(quoted(value)) is not an absolute URL", "write it with a scheme and host, e.g. https://coder.example.com/")
        }
        guard schemes.contains(scheme) else {
            return ("URL scheme \(quoted(scheme)) is not supported", "use \(schemes.sorted().joined(separator: " or "))")
        }
        return nil
    }

    /// `http://`: nothing but a digest protects what such a URL serves.
    static func isPlainHTTP(_ url: String) -> Bool {
        url.prefix(7).lowercased() == "http://"
    }

    static func absolutePath(_ value: String) -> Problem? {
        guard value.hasPrefix("/"), !value.split(separator: "/").contains("..") else {
            return ("\(quoted(value)) is not an absolute path", "write a path starting with / and without '..'")
        }
        if value.utf8.count > 4095 {
            return ("the path is \(value.utf8.count) bytes long; Linux allows at most 4095", "shorten it")
        }
        return nil
    }

    /// A login shell: an absolute path that fits a field of /etc/passwd.
    static func shell(_ value: String) -> Problem? {
        if let problem = absolutePath(value) { return problem }
        return value.contains(":") ? ("\(quoted(value)) contains ':', which separates the fields of /etc/passwd", "give the shell's path, e.g. /bin/bash") : nil
    }

    static func port(_ value: Int) -> Problem? {
        (1...65535).contains(value) ? nil : ("\(value) is not a TCP port", "use a number from 1 to 65535")
    }

    static func sha256Hex(_ value: String) -> Problem? {
        value.utf8.count == 64 && value.utf8.allSatisfy(isHexDigit)
            ? nil
            : ("\(quoted(value)) is not a SHA-256 digest", "write the 64 hex digits that `sha256sum FILE` prints")
    }

    /// `MAJOR.MINOR.PATCH`, at most nine digits each: it becomes part of a
    /// directory name under /opt and of the download URL.
    static func releaseVersion(_ value: String) -> Problem? {
        let parts = value.split(separator: ".", omittingEmptySubsequences: false)
        let ok = parts.count == 3 && parts.allSatisfy { (1...9).contains($0.utf8.count) && $0.utf8.allSatisfy(isDigit) }
        return ok ? nil : ("\(quoted(value)) is not a release version", "write it as MAJOR.MINOR.PATCH, e.g. 4.96.4 (no leading v, at most 9 digits a part)")
    }

    /// Headers that frame or route the request: the agent's HTTP client sets
    /// them itself, and a second copy would smuggle or break requests.
    /// `Coder-Session-Token` carries the agent's token.
    static let reservedHeaderNames: Set<String> = [
        "host", "content-length", "transfer-encoding", "connection", "keep-alive", "proxy-connection",
        "te", "trailer", "upgrade", "expect", "coder-session-token",
    ]

    /// An HTTP header name (RFC 9110 token) the agent may add.
    static func headerName(_ value: String) -> Problem? {
        let token = Set("!#$%&'*+-.^_`|~".utf8)
        guard !value.isEmpty, value.utf8.allSatisfy({ isAlnum($0) || token.contains($0) }) else {
            return ("\(quoted(value)) is not an HTTP header name", "use letters, digits and -")
        }
        if reservedHeaderNames.contains(value.lowercased()) {
            return (
                "\(value) is set by the agent's HTTP client and cannot be added",
                "drop it; agentHeaders are for headers such as X-Tenant that a proxy in front of Coder expects"
            )
        }
        return nil
    }

    /// All headers travel in one CODER_AGENT_HEADER value, which the agent
    /// splits as CSV, read from an EnvironmentFile that gives backslashes a
    /// meaning: none of `,` `"` `\` can pass through unchanged.
    static func headerValue(_ value: String) -> Problem? {
        guard let bad = value.first(where: { $0 == "," || $0 == "\"" || $0 == "\\" }) else { return nil }
        return (
            "header value contains \(quoted(String(bad))), which CODER_AGENT_HEADER cannot carry (it separates or quotes headers)",
            "give a value without commas, double quotes or backslashes"
        )
    }

    /// A VS Code marketplace id, `publisher.name` with an optional
    /// `@version`. It reaches code-server's command line, so no part may
    /// start with '-', and the version is digits, letters, '.', '+' and '-'
    /// without '..'.
    static func extensionID(_ value: String) -> Problem? {
        let pieces = value.split(separator: "@", maxSplits: 1, omittingEmptySubsequences: false)
        let parts = pieces[0].split(separator: ".", omittingEmptySubsequences: false)
        let namePart: (Substring) -> Bool = {
            (1...128).contains($0.utf8.count) && isAlnum($0.utf8.first!) && $0.utf8.allSatisfy { isAlnum($0) || $0 == UInt8(ascii: "-") }
        }
        guard parts.count == 2, parts.allSatisfy(namePart) else {
            return ("\(quoted(value)) is not an extension id", "write publisher.name, e.g. ms-python.python")
        }
        if pieces.count == 2 {
            let version = pieces[1]
            let versionChars = Set(".+-".utf8)
            guard (1...64).contains(version.utf8.count), isAlnum(version.utf8.first!), !version.contains(".."),
                version.utf8.allSatisfy({ isAlnum($0) || versionChars.contains($0) })
            else {
                return ("\(quoted(String(version))) is not an extension version", "write publisher.name@1.2.3, or leave the version out")
            }
        }
        return nil
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

    /// The control characters a PEM block may hold: its line breaks and tabs.
    static let pemWhitespace: Set<Unicode.Scalar> = ["\n", "\r", "\t"]

    /// code-server's `hashed-password`: an argon2 PHC string (`$argon2id$v=19$m=...$salt$hash`,
    /// in its own alphabet: it lands in an EnvironmentFile) or a SHA-256 hex.
    static func hashedPassword(_ value: String) -> Problem? {
        let phc = Set("$=,+/.-".utf8)
        let isArgon2 = value.hasPrefix("$argon2") && value.utf8.allSatisfy { isAlnum($0) || phc.contains($0) }
        return isArgon2 || sha256Hex(value) == nil
            ? nil
            : ("not a hashed password", "give an argon2 hash (`echo -n PASSWORD | npx argon2-cli -e`) or a SHA-256 hex, never the password itself")
    }

    /// code-server's `--bind-addr`: an IP literal or `localhost`, never a
    /// name it would resolve (and bind whatever the name says) at start;
    /// with `auth: none`, loopback only, since code-server runs commands as
    /// the user for anyone who reaches it.
    static func bindAddress(_ value: String, auth: CodeServerSettings.Auth) -> Problem? {
        guard let address = HostPort(value) else {
            return ("\(quoted(value)) is not HOST:PORT", "e.g. 127.0.0.1:13337 or [::1]:13337")
        }
        let bracketed = value.hasPrefix("[")
        switch IPAddress(address.host) {
        case _ where !bracketed && address.host.lowercased() == "localhost", .v4? where !bracketed, .v6? where bracketed: break
        case .v6?: return ("an IPv6 address must be in brackets", "write [\(address.host)]:\(address.port)")
        default:
            return (
                "code-server binds to an IP address or localhost, not \(quoted(address.host))",
                "write the address, e.g. 127.0.0.1:\(address.port) or [::1]:\(address.port); a name would be resolved when code-server starts"
            )
        }
        if auth == .none, !address.isLoopback {
            return (
                "code-server on \(address.host) with auth: none would let anyone who reaches the VM run commands as the user",
                "bind to 127.0.0.1 (Coder's port forwarding reaches it) or set auth: password with hashedPassword"
            )
        }
        return nil
    }

    /// One NO_PROXY entry: a host, `.domain`, `*`, an IP or a CIDR block.
    static func noProxyEntry(_ value: String) -> Problem? {
        let allowed = Set(".-:/[]*_".utf8)
        guard !value.isEmpty, value.utf8.allSatisfy({ isAlnum($0) || allowed.contains($0) }) else {
            return ("\(quoted(value)) is not one host, domain or address", "give one entry per item, e.g. .svc.cluster.local or 10.0.0.0/8")
        }
        return nil
    }

    /// A key as one step of a field path: printable, and `""` when empty, so
    /// that no key yields the empty path (which means the whole document).
    static func pathComponent(_ key: String) -> String {
        key.isEmpty ? "\"\"" : visible(key)
    }

    /// `value` in quotes, shortened and with its control characters escaped, for messages.
    static func quoted(_ value: String) -> String {
        "\"" + visible(value) + "\""
    }

    /// `value` safe to print on a terminal or into the journal: control
    /// characters as `\n` or `\u{1B}`, and at most 60 characters.
    static func visible(_ value: String) -> String {
        let shown = value.count > 60 ? String(value.prefix(57)) + "..." : value
        var result = ""
        for scalar in shown.unicodeScalars {
            switch scalar {
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            case _ where isControl(scalar): result += "\\u{\(String(scalar.value, radix: 16, uppercase: true))}"
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result
    }

    private static func codePoint(_ scalar: Unicode.Scalar) -> String {
        let hex = String(scalar.value, radix: 16, uppercase: true)
        return "U+" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
    }

    private static func isDigit(_ c: UInt8) -> Bool { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(c) }
    private static func isLowerAlnum(_ c: UInt8) -> Bool { isDigit(c) || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(c) }
    private static func isAlnum(_ c: UInt8) -> Bool { isLowerAlnum(c) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(c) }
    private static func isHexDigit(_ c: UInt8) -> Bool {
        isDigit(c) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(c) || (UInt8(ascii: "A")...UInt8(ascii: "F")).contains(c)
    }
}
