/// The text of a systemd `EnvironmentFile=`, built from checked pairs: names
/// are `[A-Za-z_][A-Za-z0-9_]*`, values hold no control character and are
/// quoted so systemd reads them back unchanged (single quotes, which keep
/// everything literal, unless the value holds one; then double quotes with
/// `\`, `"`, `$` and backtick escaped, as systemd's env-file parser undoes).
public struct EnvironmentFile: Equatable, Sendable {
    public private(set) var entries: [(name: String, value: String)] = []

    public init(comment: String) { self.comment = comment }

    /// The first line, a `#` comment saying who writes the file.
    public var comment: String

    public mutating func set(_ name: String, _ value: String) throws(ConfigValueError) {
        guard let first = name.utf8.first, !(UInt8(ascii: "0")...UInt8(ascii: "9")).contains(first),
            name.utf8.allSatisfy({
                $0 == UInt8(ascii: "_") || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0)
                    || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains($0) || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains($0)
            })
        else { throw ConfigValueError(key: name, reason: "it is not a variable name") }
        try ConfigValue.check(value, for: name)
        entries.removeAll { $0.name == name }
        entries.append((name, value))
    }

    public var text: String {
        var lines = ["# " + comment]
        for (name, value) in entries { lines.append("\(name)=\(Self.quoted(value))") }
        return lines.joined(separator: "\n") + "\n"
    }

    static func quoted(_ value: String) -> String {
        guard value.contains("'") else { return "'\(value)'" }
        var out = "\""
        for character in value {
            if "\\\"$`".contains(character) { out.append("\\") }
            out.append(character)
        }
        return out + "\""
    }

    public static func == (lhs: Self, rhs: Self) -> Bool { lhs.text == rhs.text }
}

/// The text of a line-based config such as an sshd drop-in or a sudoers
/// rule: each line is made of checked words joined by spaces, so no value
/// can break a line or add one.
public struct ConfigLines: Equatable, Sendable {
    public private(set) var lines: [String]

    /// `header` becomes the first line, as a `#` comment.
    public init(header: String) { lines = ["# " + header] }

    /// One line of `words` joined by single spaces; every word checked.
    public mutating func add(_ words: String...) throws(ConfigValueError) {
        for word in words { try ConfigValue.check(word, for: words.first ?? "line") }
        lines.append(words.joined(separator: " "))
    }

    public var text: String { lines.joined(separator: "\n") + "\n" }
}
