import Foundation
import WorkspaceSpec
import Yams

/// An ordered document tree for everything this module writes (cloud-config
/// and Kubernetes objects). Documents are built as data and serialized by
/// Yams, never by string templates, so no value can change their structure.
public indirect enum YAMLValue: Equatable, Sendable {
    case string(String)
    case int(Int)
    case double(Double)
    case bool(Bool)
    case null
    case list([YAMLValue])
    /// Keys in the order they are written.
    case mapping([Pair])

    public struct Pair: Equatable, Sendable {
        public var key: String
        public var value: YAMLValue
    }

    /// A mapping that keeps the literal's order and leaves out nil values,
    /// so optional fields read as `"name": optional` at the call site.
    public static func object(_ pairs: KeyValuePairs<String, YAMLValue?>) -> YAMLValue {
        .mapping(pairs.compactMap { key, value in value.map { Pair(key: key, value: $0) } })
    }

    public static func object(_ pairs: [(String, YAMLValue)]) -> YAMLValue {
        .mapping(pairs.map { Pair(key: $0.0, value: $0.1) })
    }

    /// A mapping of strings (labels, annotations, selectors).
    public static func strings(_ pairs: [(String, String)]) -> YAMLValue {
        .mapping(pairs.map { Pair(key: $0.0, value: .string($0.1)) })
    }

    /// A JSON tree as YAML, mapping keys sorted (a passed-through value
    /// such as the spec's network-config).
    public init(_ json: JSONValue) {
        switch json {
        case .null: self = .null
        case .bool(let flag): self = .bool(flag)
        case .int(let number): self = .int(Int(number))
        case .double(let number): self = .double(number)
        case .string(let text): self = .string(text)
        case .array(let items): self = .list(items.map(YAMLValue.init))
        case .object(let fields): self = .object(fields.keys.sorted().map { ($0, YAMLValue(fields[$0]!)) })
        }
    }

    /// The value at `key` of a mapping.
    public subscript(key: String) -> YAMLValue? {
        guard case .mapping(let pairs) = self else { return nil }
        return pairs.first { $0.key == key }?.value
    }
}

extension YAMLValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByArrayLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int) { self = .int(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(arrayLiteral elements: YAMLValue...) { self = .list(elements) }
}

// MARK: - YAML

extension YAMLValue {
    /// One YAML document, ASCII only (libyaml escapes anything else inside
    /// double quotes), lines never folded.
    public func yamlDocument() throws -> String {
        try Yams.serialize(node: node, width: -1, allowUnicode: false)
    }

    /// Several documents as one stream for `kubectl apply -f -`.
    public static func yamlStream(_ documents: [YAMLValue]) throws -> String {
        try Yams.serialize(nodes: documents.map(\.node), width: -1, allowUnicode: false, explicitStart: true)
    }

    var node: Node {
        switch self {
        case .string(let text): return .scalar(Self.stringScalar(text))
        case .int(let number): return .scalar(.init(String(number), Tag(.int), .plain))
        case .double(let number): return .scalar(.init(Self.floatText(number), Tag(.float), .plain))
        case .bool(let flag): return .scalar(.init(flag ? "true" : "false", Tag(.bool), .plain))
        case .null: return .scalar(.init("null", Tag(.null), .plain))
        case .list(let items): return .sequence(.init(items.map(\.node)))
        case .mapping(let pairs):
            return .mapping(.init(pairs.map { (Node.scalar(Self.stringScalar($0.key)), $0.value.node) }))
        }
    }

    /// libyaml writes a plain scalar whenever the text allows it, without
    /// asking whether a reader would take it for a number, a boolean or null
    /// (and readers differ: PyYAML is YAML 1.1, Kubernetes' go-yaml reads
    /// `y` and `+.5` its own way). So a string stays plain only when it is
    /// unmistakably one; everything else is double-quoted, and text with
    /// line breaks is a literal block, which is always a string.
    static func stringScalar(_ text: String) -> Node.Scalar {
        if text.contains("\n") { return .init(text, Tag(.str), .literal) }
        return .init(text, Tag(.str), isPlainSafe(text) ? .plain : .doubleQuoted)
    }

    /// A float that every reader takes for one: YAML 1.1 readers (PyYAML,
    /// cloud-init) want a dot in it, so `1e-07` is written `1.0e-07`.
    static func floatText(_ number: Double) -> String {
        guard number.isFinite else { return number.isNaN ? ".nan" : (number < 0 ? "-.inf" : ".inf") }
        let text = "\(number)"
        guard !text.contains(".") else { return text }
        guard let exponent = text.firstIndex(where: { $0 == "e" || $0 == "E" }) else { return text + ".0" }
        return text[..<exponent] + ".0" + text[exponent...]
    }

    private static let plainStart = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ/".unicodeScalars)
    private static let plainRest = plainStart.union("0123456789._-".unicodeScalars)
    /// Words some YAML reader takes for a boolean or null.
    private static let specialWords: Set<String> = [
        "y", "n", "yes", "no", "on", "off", "true", "false", "null", "nan", "inf",
    ]

    static func isPlainSafe(_ text: String) -> Bool {
        guard let first = text.unicodeScalars.first, plainStart.contains(first),
            text.unicodeScalars.allSatisfy(plainRest.contains),
            !specialWords.contains(text.lowercased())
        else { return false }
        return Resolver.default.resolveTag(of: .scalar(.init(text))) == .str
    }
}

// MARK: - JSON

extension YAMLValue {
    /// The same tree as JSON values (key order is lost: JSON readers do not care).
    public var jsonValue: JSONValue {
        switch self {
        case .string(let text): .string(text)
        case .int(let number): .int(Int64(number))
        case .double(let number): .double(number)
        case .bool(let flag): .bool(flag)
        case .null: .null
        case .list(let items): .array(items.map(\.jsonValue))
        case .mapping(let pairs): .object(Dictionary(pairs.map { ($0.key, $0.value.jsonValue) }, uniquingKeysWith: { $1 }))
        }
    }

    /// One line of JSON with sorted keys.
    public func jsonText() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(jsonValue), as: UTF8.self)
    }
}
