import BootstrapTestKit
import Foundation

@testable import WorkspaceSpec

/// A JSON document as the mutator edits it: keys in order and possibly
/// repeated, numbers and other literals as raw text (10,000 digits fit).
indirect enum FuzzNode {
    case literal(String)
    case string(String)
    case array([FuzzNode])
    case object([(key: String, value: FuzzNode)])

    init(_ value: JSONValue) {
        switch value {
        case .null: self = .literal("null")
        case .bool(let flag): self = .literal(flag ? "true" : "false")
        case .int(let number): self = .literal(String(number))
        case .double(let number): self = .literal(String(number))
        case .string(let text): self = .string(text)
        case .array(let items): self = .array(items.map(FuzzNode.init))
        case .object(let fields): self = .object(fields.keys.sorted().map { ($0, FuzzNode(fields[$0]!)) })
        }
    }
}

/// Produces mutated specs from the README's examples: changes to the tree
/// (keys deleted, repeated or added, values of another type, control
/// characters, huge values, deep nesting), then sometimes to the bytes
/// (flips, truncation, raw control bytes, cut or repeated stretches).
/// A class, so the edits (closures) can draw from the same generator.
final class SpecMutator {
    private var random: SeededRandom
    private let seeds: [FuzzNode]
    private let keys: [String]

    init(seed: UInt64) {
        random = SeededRandom(seed: seed)
        seeds = SpecFuzzSeeds.all.map { FuzzNode(try! JSONDecoder().decode(JSONValue.self, from: Data($0.1.utf8))) }
        var keys: Set<String> = ["downloads", "maxBytes", "attemptTimeout", "tokenFile", "installedPath", "hashedPassword", "extra"]
        Self.collectKeys(seeds[0], into: &keys)
        self.keys = keys.sorted()
    }

    /// The next input, as the bytes of a file.
    func next() -> Data {
        var tree = seeds[chance(3, in: 10) ? 1 : 0]
        for _ in 0..<int(1...4) { tree = mutate(tree) }
        var style = WriteStyle()
        style.escapesEverything = chance(1, in: 50)
        var bytes = Array(write(tree, style).utf8)
        if chance(2, in: 10) {
            for _ in 0..<int(1...3) { mutateBytes(&bytes) }
        }
        return Data(bytes)
    }

    // MARK: - The tree

    private func mutate(_ tree: FuzzNode) -> FuzzNode {
        switch int(0...9) {
        case 0:  // delete a key or an item
            return edit(tree, where: isContainer) { node in
                switch node {
                case .object(var pairs) where !pairs.isEmpty:
                    pairs.remove(at: int(0...(pairs.count - 1)))
                    return .object(pairs)
                case .array(var items) where !items.isEmpty:
                    items.remove(at: int(0...(items.count - 1)))
                    return .array(items)
                default: return node
                }
            }
        case 1:  // repeat a key (with another value) or an item
            return edit(tree, where: isContainer) { node in
                switch node {
                case .object(var pairs) where !pairs.isEmpty:
                    let pair = pairs[int(0...(pairs.count - 1))]
                    pairs.insert((pair.key, chance(1, in: 2) ? pair.value : value()), at: int(0...pairs.count))
                    return .object(pairs)
                case .array(var items) where !items.isEmpty:
                    items.append(items[int(0...(items.count - 1))])
                    return .array(items)
                default: return node
                }
            }
        case 2:  // add a key the spec knows, or one it does not
            return edit(tree, where: isObject) { node in
                guard case .object(var pairs) = node else { return node }
                pairs.append((chance(9, in: 10) ? pick(keys) : string(), value()))
                return .object(pairs)
            }
        case 3, 4:  // a value of another type, or another value of the same
            return edit(tree, where: { _ in true }) { _ in value() }
        case 5:  // a control character inside a string
            return edit(tree, where: isString) { node in
                guard case .string(var text) = node else { return node }
                let scalars = Array(text.unicodeScalars)
                let at = int(0...scalars.count)
                text = String(String.UnicodeScalarView(scalars[..<at] + [pick(Self.controls)] + scalars[at...]))
                return .string(text)
            }
        case 6:  // a huge value
            return edit(tree, where: { _ in true }) { _ in huge() }
        case 7:  // nesting
            return edit(tree, where: { _ in true }) { node in nest(node, depth: chance(1, in: 100) ? int(500...700) : int(1...6)) }
        case 8:  // an interesting string where a string was
            return edit(tree, where: isString) { _ in .string(pick(Self.strings)) }
        default:  // a key of an object renamed
            return edit(tree, where: isObject) { node in
                guard case .object(var pairs) = node, !pairs.isEmpty else { return node }
                let index = int(0...(pairs.count - 1))
                pairs[index].key = chance(1, in: 2) ? pick(keys) : pairs[index].key + pick(["s", "_", "\u{1B}", "\n", "X", ""])
                return .object(pairs)
            }
        }
    }

    /// Applies `change` to one node (chosen at random among those `where` accepts), or the tree unchanged.
    private func edit(_ tree: FuzzNode, where accepts: (FuzzNode) -> Bool, _ change: (FuzzNode) -> FuzzNode) -> FuzzNode {
        let count = Self.count(tree, accepts)
        guard count > 0 else { return tree }
        var remaining = int(0...(count - 1))
        return Self.replace(tree, accepts, &remaining, change)
    }

    private static func count(_ node: FuzzNode, _ accepts: (FuzzNode) -> Bool) -> Int {
        let own = accepts(node) ? 1 : 0
        switch node {
        case .object(let pairs): return pairs.reduce(own) { $0 + count($1.value, accepts) }
        case .array(let items): return items.reduce(own) { $0 + count($1, accepts) }
        default: return own
        }
    }

    /// Replaces the accepted node `remaining` places on in document order.
    private static func replace(
        _ node: FuzzNode, _ accepts: (FuzzNode) -> Bool, _ remaining: inout Int,
        _ change: (FuzzNode) -> FuzzNode
    ) -> FuzzNode {
        if accepts(node) {
            if remaining == 0 {
                remaining = -1
                return change(node)
            }
            remaining -= 1
        }
        switch node {
        case .object(var pairs):
            for index in pairs.indices where remaining >= 0 { pairs[index].value = replace(pairs[index].value, accepts, &remaining, change) }
            return .object(pairs)
        case .array(var items):
            for index in items.indices where remaining >= 0 { items[index] = replace(items[index], accepts, &remaining, change) }
            return .array(items)
        default: return node
        }
    }

    private static func collectKeys(_ node: FuzzNode, into keys: inout Set<String>) {
        switch node {
        case .object(let pairs):
            for pair in pairs {
                keys.insert(pair.key)
                collectKeys(pair.value, into: &keys)
            }
        case .array(let items): for item in items { collectKeys(item, into: &keys) }
        default: break
        }
    }

    private func isContainer(_ node: FuzzNode) -> Bool {
        switch node {
        case .object, .array: true
        default: false
        }
    }
    private func isObject(_ node: FuzzNode) -> Bool {
        if case .object = node { true } else { false }
    }
    private func isString(_ node: FuzzNode) -> Bool {
        if case .string = node { true } else { false }
    }

    // MARK: - Values

    static let controls: [Unicode.Scalar] = [
        "\u{0}", "\u{1}", "\t", "\n", "\r", "\u{1B}", "\u{7F}", "\u{85}", "\u{9B}", "\u{2028}", "\u{2029}", "\u{FEFF}", "\u{FFFE}",
    ]

    static let literals = [
        "null", "true", "false", "0", "-1", "1", "22", "2113", "13337", "13380", "65535", "65536", "1048576", "2147483648",
        "68719476736", "68719476737", "86400", "1.5", "-0", "1e3", "1e400", "9223372036854775807", "9223372036854775808",
    ]

    static let strings = [
        "", " ", "a", "root", "wheel", "sudo", "docker", "disk", "adm", "coder", "Coder", "..", "/", "/bin/bash", "/bin/bash:x", "bash",
        "/run/token", "/nonexistent/token", "127.0.0.1:13337", "0.0.0.0:13337", "127.evil.example:13337", "127.0.0.1.nip.io:13337",
        "[::1]:13337", "::1:13337", "localhost:2113", "127.0.0.1:2113", "[::ffff:127.0.0.1]:1", "127.1:80", "[::1]:0",
        "http://mirror.internal/{version}/{arch}.tar.gz", "https://coder.example.com/", "http://coder/", "ftp://x/", "https://",
        "coder.example.com", "https://x/{os}", "4.96.4", "v4.96.4", "4.96", "999999999.0.0", "ms-python.python", "ms-python.python@1.0.0",
        "a.b@../../x", "-x.y", "Host", "X-Tenant", "Content-Length", "password", "none", "token", "auto", "amd64", "arm64", "x86_64",
        "ssh", "agent", "code-server", "vnc", String(repeating: "a", count: 64), "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA",
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGtJ/5v/uTFwU/XxE3XpVYH1+q1ZHCgX0w8Q8NCXyxjx a@b", "ssh-rsa AAAA",
        "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n", "coder-vm-bootstrap/v1", "a,b", "a\"b", "a\\b", "é",
        "\u{202E}", "😀", "coder-alice-dev", "10.0.0.0/8", ".svc.cluster.local",
    ]

    private func value() -> FuzzNode {
        switch int(0...9) {
        case 0...3: return .string(pick(Self.strings))
        case 4...6: return .literal(pick(Self.literals))
        case 7: return .array((0..<int(0...3)).map { _ in .string(pick(Self.strings)) })
        case 8: return .object((0..<int(0...3)).map { _ in (pick(keys), .literal(pick(Self.literals))) })
        default: return .string(string())
        }
    }

    private func string() -> String {
        String(
            String.UnicodeScalarView(
                (0..<int(0...12)).map { _ in
                    chance(1, in: 8) ? pick(Self.controls) : Unicode.Scalar(UInt8(int(0x21...0x7E)))
                }))
    }

    private func huge() -> FuzzNode {
        // (A document over 1 MiB is refused before parsing: SpecSafetyRuleTests shows it, cheaper than here.)
        switch int(0...99) {
        case 0...4: return .string(String(repeating: "y", count: FieldRules.maximumStringBytes + 1))
        case 5...9: return .literal(String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000))
        case 10...29: return .literal("4" + String(repeating: "9", count: int(20...10_000)))
        case 30...49: return .array(Array(repeating: .string(pick(Self.strings)), count: int(250...300)))
        default: return .string(String(repeating: pick(["9", "a", ".", "/", "é"]), count: int(64...3000)))
        }
    }

    private func nest(_ node: FuzzNode, depth: Int) -> FuzzNode {
        var node = node
        for _ in 0..<depth { node = chance(1, in: 2) ? .array([node]) : .object([(pick(keys), node)]) }
        return node
    }

    // MARK: - The bytes

    private func mutateBytes(_ bytes: inout [UInt8]) {
        guard !bytes.isEmpty else { return }
        let at = int(0...(bytes.count - 1))
        switch int(0...6) {
        case 0: bytes[at] ^= 1 << UInt8(int(0...7))
        case 1: bytes[at] = UInt8(int(0...255))
        case 2: bytes.removeSubrange(at...)
        case 3: bytes.insert(UInt8(int(0...0x1F)), at: at)
        case 4: bytes.removeSubrange(at..<min(bytes.count, at + int(1...64)))
        case 5: bytes.insert(contentsOf: bytes[at..<min(bytes.count, at + int(1...64))], at: at)
        default: bytes.insert(pick(Array("{}[],:\"\\".utf8)), at: at)
        }
    }

    // MARK: - Writing

    struct WriteStyle {
        /// Every character of every string as a \u escape (surrogate pairs beyond the BMP).
        var escapesEverything = false
    }

    private func write(_ node: FuzzNode, _ style: WriteStyle) -> String {
        var out = ""
        Self.write(node, style, into: &out)
        return out
    }

    private static func write(_ node: FuzzNode, _ style: WriteStyle, into out: inout String) {
        switch node {
        case .literal(let text): out += text
        case .string(let text): writeString(text, style, into: &out)
        case .array(let items):
            out += "["
            for (index, item) in items.enumerated() {
                if index > 0 { out += "," }
                write(item, style, into: &out)
            }
            out += "]"
        case .object(let pairs):
            out += "{"
            for (index, pair) in pairs.enumerated() {
                if index > 0 { out += "," }
                writeString(pair.key, style, into: &out)
                out += ":"
                write(pair.value, style, into: &out)
            }
            out += "}"
        }
    }

    private static func writeString(_ text: String, _ style: WriteStyle, into out: inout String) {
        if !style.escapesEverything, text.utf8.allSatisfy({ $0 >= 0x20 && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\\") }) {
            out += "\"" + text + "\""
            return
        }
        out += "\""
        for scalar in text.unicodeScalars {
            if style.escapesEverything {
                for unit in String(scalar).utf16 { out += "\\u" + String(repeating: "0", count: 4 - String(unit, radix: 16).count) + String(unit, radix: 16) }
            } else if scalar == "\"" || scalar == "\\" {
                out += "\\" + String(scalar)
            } else if scalar.value < 0x20 {
                out += "\\u00" + (scalar.value < 0x10 ? "0" : "") + String(scalar.value, radix: 16)
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
    }

    // MARK: - Chance

    private func int(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &random) }
    private func chance(_ times: Int, in outOf: Int) -> Bool { int(1...outOf) <= times }
    private func pick<T>(_ items: [T]) -> T { items[int(0...(items.count - 1))] }
}
