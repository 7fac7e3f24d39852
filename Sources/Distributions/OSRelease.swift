/// The fields of `/etc/os-release` (os-release(5)): shell-style KEY=value
/// lines, values optionally quoted with ' or " and backslash escapes.
public struct OSRelease: Equatable, Sendable {
    public var fields: [String: String]

    public init(fields: [String: String]) { self.fields = fields }

    public init(contents: String) {
        var fields: [String: String] = [:]
        for rawLine in contents.split(whereSeparator: \.isNewline) {
            let line = rawLine.drop(while: { $0 == " " || $0 == "\t" })
            guard !line.hasPrefix("#"), let eq = line.firstIndex(of: "=") else { continue }
            let key = String(line[..<eq])
            var value = Substring(line[line.index(after: eq)...])
            if let quote = value.first, quote == "\"" || quote == "'", value.count >= 2, value.last == quote {
                value = value.dropFirst().dropLast()
            }
            var unescaped = ""
            var escaping = false
            for char in value {
                if escaping || char != "\\" {
                    unescaped.append(char)
                    escaping = false
                } else {
                    escaping = true
                }
            }
            fields[key] = unescaped
        }
        self.fields = fields
    }

    public var id: String { fields["ID"] ?? "linux" }
    public var idLike: [String] { (fields["ID_LIKE"] ?? "").split(separator: " ").map(String.init) }
    public var versionID: String? { fields["VERSION_ID"] }
    public var prettyName: String { fields["PRETTY_NAME"] ?? fields["NAME"] ?? id }
}
