/// A relative path inside the tree being extracted, as checked components:
/// each non-empty, not "." or "..", without "/" or control characters, at
/// most 255 bytes, 4095 in all. What the file layer creates is named only
/// by these.
public struct ArchivePath: Hashable, Sendable, CustomStringConvertible {
    public let components: [String]

    // Byte for byte: Swift's String equality treats canonically equivalent
    // names ("é" and "e" + U+0301) as equal, the file system does not.
    public static func == (lhs: ArchivePath, rhs: ArchivePath) -> Bool {
        lhs.components.elementsEqual(rhs.components) { $0.utf8.elementsEqual($1.utf8) }
    }

    public func hash(into hasher: inout Hasher) {
        for component in components {
            hasher.combine(component.utf8.count)
            for byte in component.utf8 { hasher.combine(byte) }
        }
    }

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
        guard !hasControlCharacter(text) else { throw .controlCharacter }
        guard bytes.first != UInt8(ascii: "/") else { throw .absolutePath }
        guard bytes.count <= maxPathBytes else { throw .nameTooLong }
        var parts = slashSeparated(text)
        let trailingSlash = parts.count > 1 && parts.last!.isEmpty
        if trailingSlash { parts.removeLast() }
        var components: [String] = []
        for part in parts where !part.elementsEqual(".".utf8) {
            guard !part.isEmpty else { throw .emptyComponent }
            guard !part.elementsEqual("..".utf8) else { throw .parentDirectoryComponent }
            guard part.count <= maxComponentBytes else { throw .nameTooLong }
            components.append(String(decoding: part, as: UTF8.self))
        }
        return (components, trailingSlash)
    }

    /// Split at every "/" byte, as the kernel does. (Splitting the String
    /// would not: "/" followed by a combining mark is one Character.)
    static func slashSeparated(_ text: String) -> [Substring.UTF8View] {
        text[...].utf8.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false)
    }

    /// C0 (NUL included), DEL and C1 controls.
    static func hasControlCharacter(_ text: String) -> Bool {
        text.unicodeScalars.contains { $0.properties.generalCategory == .control }
    }
}
