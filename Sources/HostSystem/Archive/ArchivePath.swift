/// A relative path inside the tree being extracted, as checked components:
/// each non-empty, not "." or "..", without "/" or control characters, at
/// most 255 bytes, 4095 in all. What the file layer creates is named only
/// by these.
public struct ArchivePath: Hashable, Sendable, CustomStringConvertible {
    public let components: [String]

    static let maxComponentBytes = 255
    static let maxPathBytes = 4095

    /// Checks `text` as a member name would be checked (without stripping).
    public init(validating text: String) throws(ArchiveRefusal) {
        let parsed = try Self.components(of: text)
        guard !parsed.components.isEmpty else { throw .emptyComponent }
        components = parsed.components
    }

    init(checked components: ArraySlice<String>) {
        precondition(!components.isEmpty)
        self.components = Array(components)
    }

    public var description: String { components.joined(separator: "/") }

    /// The components of a member name: "." dropped, one trailing "/"
    /// allowed and reported; absolute names, "..", empty components
    /// ("a//b", ""), control characters (NUL included) and names too long
    /// for Linux refused.
    static func components(of text: String) throws(ArchiveRefusal) -> (components: [String], trailingSlash: Bool) {
        let bytes = text.utf8
        guard !bytes.isEmpty else { throw .emptyComponent }
        guard !bytes.contains(where: isControl) else { throw .controlCharacter }
        guard bytes.first != UInt8(ascii: "/") else { throw .absolutePath }
        guard bytes.count <= maxPathBytes else { throw .nameTooLong }
        var parts = text.split(separator: "/", omittingEmptySubsequences: false)
        let trailingSlash = parts.count > 1 && parts.last == ""
        if trailingSlash { parts.removeLast() }
        var components: [String] = []
        for part in parts where part != "." {
            guard !part.isEmpty else { throw .emptyComponent }
            guard part != ".." else { throw .parentDirectoryComponent }
            guard part.utf8.count <= maxComponentBytes else { throw .nameTooLong }
            components.append(String(part))
        }
        return (components, trailingSlash)
    }

    static func isControl(_ byte: UInt8) -> Bool { byte < 0x20 || byte == 0x7F }
}
