/// Turns swift-log metadata keys into journal field names.
///
/// journald drops fields whose names are not `[A-Z0-9_]{1,64}`, start with
/// a digit, or start with `_` (reserved for trusted fields it adds itself),
/// so keys are mapped rather than passed through: `duration-ms` becomes
/// `DURATION_MS`, `_pid` becomes `M__PID`, `9lives` becomes `M_9LIVES`.
public enum JournalFieldName {
    /// journald's limit on field name length.
    public static let maximumLength = 64

    /// Fields the log handler writes itself; a metadata key with the same
    /// name gets the `M_` prefix so it cannot forge or duplicate them.
    public static let reserved: Set<String> = [
        "MESSAGE", "PRIORITY", "SYSLOG_IDENTIFIER", "SYSLOG_FACILITY",
        "SYSLOG_PID", "SYSLOG_TIMESTAMP", "SYSLOG_RAW",
        "CODE_FILE", "CODE_LINE", "CODE_FUNC", "ERRNO",
    ]

    /// The journal field name for a metadata key.
    public static func forMetadataKey(_ key: String) -> String {
        var name = ""
        name.reserveCapacity(key.utf8.count)
        for byte in key.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"):
                name.unicodeScalars.append(Unicode.Scalar(byte - 32))
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"):
                name.unicodeScalars.append(Unicode.Scalar(byte))
            case 0x80..<0xC0:
                // UTF-8 continuation byte: one `_` per character, not per byte.
                continue
            default:
                name.append("_")
            }
        }
        if name.isEmpty || name.first == "_" || name.first!.isNumber || reserved.contains(name) {
            name = "M_" + name
        }
        if name.utf8.count > maximumLength {
            name = String(name.prefix(maximumLength))
        }
        return name
    }
}
