import Logging

/// The last line of defence for secrets in logs: metadata whose key names a
/// credential is replaced before any handler writes it.
///
/// Code should never put a token into metadata in the first place; this
/// catches the mistake (`logger.debug("…", metadata: ["token": "\(t)"])`)
/// before it reaches the journal, which every member of `adm` can read.
public enum MetadataRedaction {
    /// What a redacted value is replaced with.
    public static let placeholder: Logger.MetadataValue = "<redacted>"

    /// Key fragments, compared against the key lowercased with `-`, `.` and
    /// spaces folded into `_`. Deliberately broad: a false positive costs a
    /// log value, a false negative leaks a credential.
    public static let secretKeyFragments: [String] = [
        "token", "secret", "password", "passwd", "passphrase",
        "credential", "authorization", "api_key", "apikey",
        "private_key", "cookie",
    ]

    /// Whether a metadata key names a secret (`token`, `CODER_AGENT_TOKEN`,
    /// `db-password`, `clientSecret`, …).
    public static func isSecretKey(_ key: String) -> Bool {
        var folded = ""
        folded.reserveCapacity(key.utf8.count)
        for ch in key.lowercased() {
            folded.append(ch == "-" || ch == "." || ch == " " ? "_" : ch)
        }
        return secretKeyFragments.contains { folded.contains($0) }
    }
}

extension Logger.Metadata {
    /// A copy with every value under a secret-looking key replaced by
    /// `MetadataRedaction.placeholder`, recursively through dictionaries and
    /// arrays.
    public func redactingSecrets() -> Logger.Metadata {
        var result = self
        for (key, value) in self {
            if MetadataRedaction.isSecretKey(key) {
                result[key] = MetadataRedaction.placeholder
            } else if let redacted = value.redactingSecrets() {
                result[key] = redacted
            }
        }
        return result
    }
}

extension Logger.MetadataValue {
    /// The value with nested secrets redacted, or nil if nothing changed
    /// (saves copying the common flat case).
    fileprivate func redactingSecrets() -> Logger.MetadataValue? {
        switch self {
        case .dictionary(let dict):
            let redacted = dict.redactingSecrets()
            return redacted == dict ? nil : .dictionary(redacted)
        case .array(let values):
            var changed = false
            let mapped = values.map { value -> Logger.MetadataValue in
                if let r = value.redactingSecrets() {
                    changed = true
                    return r
                }
                return value
            }
            return changed ? .array(mapped) : nil
        case .string, .stringConvertible:
            return nil
        }
    }
}
