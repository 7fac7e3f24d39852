#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// One line of `authorized_keys`, parsed far enough to be sure sshd will
/// accept it: an optional options field, a known key type, base64 key data
/// whose embedded type name matches, and an optional comment.
public struct SSHAuthorizedKey: Equatable, Sendable {
    public static let keyTypes: Set<String> = [
        "ssh-ed25519", "ssh-rsa", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521",
        "sk-ssh-ed25519@openssh.com", "sk-ecdsa-sha2-nistp256@openssh.com",
    ]

    public var type: String
    public var comment: String?

    public enum ParseError: Error, Equatable {
        case multipleLines, noKeyType, badBase64
        case typeMismatch(embedded: String)
    }

    public init(line: String) throws(ParseError) {
        if line.contains(where: \.isNewline) { throw .multipleLines }
        let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        // Options (from="...",no-pty) come first when present; the type is the
        // first field that names a key type.
        guard let typeIndex = fields.firstIndex(where: { Self.keyTypes.contains($0) }),
            typeIndex + 1 < fields.count
        else { throw .noKeyType }
        guard let blob = Data(base64Encoded: fields[typeIndex + 1]), blob.count > 4 else { throw .badBase64 }
        // The blob starts with a uint32 length and the type name again.
        let length = blob.prefix(4).reduce(0) { Int($0) << 8 | Int($1) }
        guard length > 0, blob.count >= 4 + length,
            let embedded = String(bytes: blob.dropFirst(4).prefix(length), encoding: .utf8)
        else { throw .badBase64 }
        guard embedded == fields[typeIndex] else { throw .typeMismatch(embedded: embedded) }
        type = embedded
        let rest = fields.dropFirst(typeIndex + 2)
        comment = rest.isEmpty ? nil : rest.joined(separator: " ")
    }
}
