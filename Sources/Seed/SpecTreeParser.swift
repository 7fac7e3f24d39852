import Foundation
import WorkspaceSpec
import Yams

/// Reads a spec written in YAML (or JSON, which YAML 1.2 contains) into the
/// `JSONValue` tree that `SpecDecoder` checks. Plain scalars are typed by the
/// YAML 1.2 core schema, not YAML 1.1: `on`, `yes` and `no` stay strings (a
/// code-server setting such as `editor.wordWrap: on` means the string), only
/// `true`/`false` are booleans. Problems are reported like the decoder's,
/// with field paths (and the line where it helps).
public enum SpecTreeParser {
    /// More nodes than any spec has: stops alias bombs ("billion laughs").
    static let nodeLimit = 100_000

    public static func parse(_ text: String, source: String? = nil) throws(InvalidSpec) -> JSONValue {
        // JSON goes to the JSON decoder: libyaml is a YAML 1.1 parser and
        // does not read every JSON document the way JSON readers do.
        if text.first(where: { !$0.isWhitespace }) == "{" {
            let tree: JSONValue
            do {
                tree = try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
            } catch {
                throw InvalidSpec(
                    source: source, document: "not valid JSON: \(jsonErrorMessage(error))",
                    hint: "fix the JSON syntax (`python3 -m json.tool FILE` shows where)")
            }
            // As the daemon refuses them, and as Yams refuses them in YAML.
            let repeated = SpecDecoder.repeatedKeys(inJSON: Data(text.utf8))
            if !repeated.isEmpty { throw InvalidSpec(source: source, diagnostics: repeated) }
            return tree
        }
        let root: Node?
        do {
            root = try Parser(yaml: text, resolver: coreSchema).singleRoot()
        } catch {
            throw InvalidSpec(
                source: source, document: "not valid YAML or JSON: \(syntaxMessage(error))",
                hint: "fix the syntax at the line shown (YAML indents with spaces, never tabs)")
        }
        guard let root else {
            throw InvalidSpec(source: source, document: "the file is empty", hint: "start with apiVersion: \(WorkspaceSpec.currentAPIVersion)")
        }
        var converter = Converter()
        let tree = converter.convert(root, path: "")
        guard converter.diagnostics.isEmpty else { throw InvalidSpec(source: source, diagnostics: converter.diagnostics) }
        return tree
    }

    /// Parses and decodes in one step.
    public static func decodeSpec(_ text: String, source: String? = nil) throws(InvalidSpec) -> WorkspaceSpec {
        try SpecDecoder.decode(try parse(text, source: source), source: source)
    }

    // YAML 1.2 core schema (rules are tried in order; anything else is a string).
    static let coreSchema: Resolver = {
        // The patterns are constants: a failure here is a programming error.
        // swiftlint:disable force_try
        try! Resolver.basic
            .appending(.null, "^(?:~|null|Null|NULL|)$")
            .appending(.bool, "^(?:true|True|TRUE|false|False|FALSE)$")
            .appending(.int, "^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$")
            .appending(.float, "^(?:[-+]?(?:\\.[0-9]+|[0-9]+(?:\\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\\.(?:inf|Inf|INF)|\\.(?:nan|NaN|NAN))$")
        // swiftlint:enable force_try
    }()

    static func jsonErrorMessage(_ error: Error) -> String {
        if case DecodingError.dataCorrupted(let context) = error {
            return (context.underlyingError.map { String(describing: $0) } ?? context.debugDescription)
        }
        return String(describing: error)
    }

    static func syntaxMessage(_ error: Error) -> String {
        // YamlError's description repeats the offending line with a caret;
        // keep it, it shows where.
        String(describing: error).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    struct Converter {
        var diagnostics: [SpecDiagnostic] = []
        var nodes = 0

        mutating func report(_ path: String, _ node: Node, _ message: String, hint: String? = nil) {
            let line = node.mark.map { " (line \($0.line))" } ?? ""
            diagnostics.append(SpecDiagnostic(path: path, message: message + line, hint: hint))
        }

        mutating func convert(_ node: Node, path: String) -> JSONValue {
            nodes += 1
            if nodes == SpecTreeParser.nodeLimit {
                report(
                    path, node, "the document has more than \(SpecTreeParser.nodeLimit) values",
                    hint: "a spec is small: check for runaway aliases (*name)")
            }
            guard nodes < SpecTreeParser.nodeLimit else { return .null }
            switch node {
            case .scalar(let scalar): return convert(scalar, node: node, path: path)
            case .sequence(let sequence):
                return .array(sequence.enumerated().map { convert($1, path: "\(path)[\($0)]") })
            case .mapping(let mapping):
                var object: [String: JSONValue] = [:]
                for (key, value) in mapping {
                    guard case .scalar(let keyScalar) = key, Self.tagName(key) == .str else {
                        report(
                            path, key, "a key is not a string (\(key.scalar?.string ?? "a list or mapping"))",
                            hint: "quote the key")
                        continue
                    }
                    // Duplicate keys never get here: Yams refuses them while parsing.
                    let childPath = path.isEmpty ? keyScalar.string : "\(path).\(keyScalar.string)"
                    object[keyScalar.string] = convert(value, path: childPath)
                }
                return .object(object)
            case .alias:
                return .null  // Yams resolves aliases while parsing; none reach here.
            }
        }

        mutating func convert(_ scalar: Node.Scalar, node: Node, path: String) -> JSONValue {
            let text = scalar.string
            switch Self.tagName(node) {
            case .str: return .string(text)
            case .null: return .null
            case .bool: return .bool(text.lowercased() == "true")
            case .int:
                if let number = Self.integer(text) { return .int(number) }
                report(path, node, "\(text) does not fit in 64 bits", hint: "use a smaller number or quote it")
                return .null
            case .float:
                if let number = Double(text), number.isFinite {
                    return .double(number)
                }
                report(path, node, "\(text) is not a finite number", hint: "JSON has no infinity or NaN; quote it if you meant text")
                return .null
            default:
                report(
                    path, node, "the tag \(node.tag.description) is not supported",
                    hint: "remove the tag; specs hold strings, numbers, booleans, lists and mappings")
                return .null
            }
        }

        /// The resolved tag (Yams keeps `Tag.name` internal; its description is the name).
        static func tagName(_ node: Node) -> Tag.Name { Tag.Name(rawValue: node.tag.description) }

        static func integer(_ text: String) -> Int64? {
            if text.hasPrefix("0x") { return Int64(text.dropFirst(2), radix: 16) }
            if text.hasPrefix("0o") { return Int64(text.dropFirst(2), radix: 8) }
            return Int64(text.hasPrefix("+") ? String(text.dropFirst()) : text)
        }
    }
}
