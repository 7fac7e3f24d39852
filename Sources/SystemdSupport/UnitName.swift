/// A syntactically valid systemd unit name, checked as systemd's
/// `unit_name_is_valid()` does, so a bad name fails here with a reason
/// instead of as an opaque D-Bus error (or, worse, as a different unit).
public struct UnitName: Sendable, Hashable, CustomStringConvertible {
    /// Plain (`sshd.service`), template (`code-server@.service`) or
    /// instance (`code-server@coder.service`).
    public enum Form: Sendable, Hashable {
        case plain, template, instance
    }

    /// Unit types systemd knows (the suffix after the last dot).
    public static let types: Set<String> = [
        "service", "socket", "target", "device", "mount", "automount",
        "swap", "timer", "path", "slice", "scope",
    ]

    /// systemd's `UNIT_NAME_MAX` minus the terminating NUL.
    public static let maximumLength = 255

    public let rawValue: String
    public let form: Form

    public var description: String { rawValue }

    /// The type suffix, e.g. `service`.
    public var type: Substring {
        rawValue[rawValue.index(after: rawValue.lastIndex(of: ".")!)...]
    }

    /// The template this instance or template belongs to, e.g.
    /// `code-server@.service` for `code-server@coder.service`.
    public var template: UnitName? {
        guard form != .plain, let at = rawValue.firstIndex(of: "@") else { return nil }
        return try? UnitName(String(rawValue[...at]) + "." + type)
    }

    public init(_ name: String) throws(UnitNameError) {
        func fail(_ reason: String) -> UnitNameError { UnitNameError(name: name, reason: reason) }
        let bytes = Array(name.utf8)
        guard !bytes.isEmpty else { throw fail("empty") }
        guard bytes.count <= Self.maximumLength else {
            throw fail("longer than \(Self.maximumLength) bytes")
        }
        guard let dot = bytes.lastIndex(of: UInt8(ascii: ".")), dot > 0 else {
            throw fail("no type suffix such as .service")
        }
        let suffix = String(decoding: bytes[(dot + 1)...], as: UTF8.self)
        guard Self.types.contains(suffix) else { throw fail("unknown unit type \"\(suffix)\"") }
        var at: Int?
        for (i, byte) in bytes[..<dot].enumerated() {
            if byte == UInt8(ascii: "@") {
                if at == nil { at = i }
                continue
            }
            guard Self.isValidChar(byte) else {
                throw fail("invalid character at offset \(i); escape instance names with UnitName.escape")
            }
        }
        switch at {
        case nil: form = .plain
        case 0?: throw fail("starts with @")
        case let at? where at + 1 == dot: form = .template
        default: form = .instance
        }
        rawValue = name
    }

    /// `template@instance.type`, with the instance escaped as
    /// `systemd-escape` does (`/` becomes `-`, other bytes outside
    /// `[A-Za-z0-9:_.]` become `\xNN`).
    public init(template prefix: String, instance: String, type: String = "service") throws(UnitNameError) {
        try self.init("\(prefix)@\(Self.escape(instance)).\(type)")
        guard form == .instance else {
            throw UnitNameError(name: rawValue, reason: "not an instance name")
        }
    }

    /// systemd's `unit_name_escape()`: the inverse of `%i` vs `%I`.
    public static func escape(_ string: String) -> String {
        var out = ""
        for (i, byte) in string.utf8.enumerated() {
            if i == 0 && byte == UInt8(ascii: ".") {
                // No leading dot: it would make a hidden file of the unit.
                out += hexEscape(byte)
            } else if byte == UInt8(ascii: "/") {
                out += "-"
            } else if byte == UInt8(ascii: "-") || byte == UInt8(ascii: "\\") || !isValidChar(byte) {
                out += hexEscape(byte)
            } else {
                out.unicodeScalars.append(Unicode.Scalar(byte))
            }
        }
        return out
    }

    private static func hexEscape(_ byte: UInt8) -> String {
        let digits = Array("0123456789abcdef")
        return "\\x" + String(digits[Int(byte >> 4)]) + String(digits[Int(byte & 0xf)])
    }

    /// systemd's `VALID_CHARS`: letters, digits, `:-_.\`.
    private static func isValidChar(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"),
            UInt8(ascii: ":"), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "\\"):
            return true
        default:
            return false
        }
    }
}

/// A string that is not a usable unit name, and why.
public struct UnitNameError: Error, Sendable, Hashable, CustomStringConvertible {
    public let name: String
    public let reason: String

    public var description: String { "invalid unit name \"\(name)\": \(reason)" }
}
