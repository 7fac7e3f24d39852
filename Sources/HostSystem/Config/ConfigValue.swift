/// A value refused for a line-based config file, with the key it was for.
public struct ConfigValueError: Error, Equatable, Sendable, CustomStringConvertible {
    public var key: String
    public var reason: String

    public var description: String { "refusing the value for \(key): \(reason)" }
}

/// The one check every value passes before it reaches a unit's
/// EnvironmentFile, an sshd drop-in or a sudoers rule: a control character
/// (a line break above all) would let a value start a line of its own.
enum ConfigValue {
    static func check(_ value: String, for key: String) throws(ConfigValueError) {
        if let scalar = value.unicodeScalars.first(where: isControl) {
            let code = String(scalar.value, radix: 16, uppercase: true)
            throw ConfigValueError(key: key, reason: "it contains the control character U+\(String(repeating: "0", count: max(0, 4 - code.count)))\(code)")
        }
    }

    /// C0 and C1 controls, DEL, and the Unicode line and paragraph separators.
    static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) || scalar.value == 0x2028 || scalar.value == 0x2029
    }
}
