#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Finds keys that appear twice in one JSON object. JSONDecoder keeps the
/// first copy silently while most other readers (Go, Python, JavaScript)
/// keep the last, so a spec with a duplicate could mean one thing to the
/// tool that wrote or checked it and another to the daemon: it is refused.
///
/// Runs on a document JSONDecoder has already accepted (valid JSON, nested
/// at most a few hundred deep), so it only tracks structure: one pass, no
/// recursion.
enum JSONDuplicateKeys {
    /// One open object or array. Mutated in place on the stack, so a key set
    /// is never copied.
    private struct Frame {
        var isObject: Bool
        var keys: Set<String> = []
        var current: String?
        var expectingKey = true
        var index = 0
    }

    /// The field path of every repeated key, in document order.
    static func paths(in data: Data) -> [String] {
        let bytes = [UInt8](data)
        var stack: [Frame] = []
        var found: [String] = []
        var position = 0
        while position < bytes.count {
            let byte = bytes[position]
            position += 1
            switch byte {
            case UInt8(ascii: "{"): stack.append(Frame(isObject: true))
            case UInt8(ascii: "["): stack.append(Frame(isObject: false))
            case UInt8(ascii: "}"), UInt8(ascii: "]"): _ = stack.popLast()
            case UInt8(ascii: ","):
                guard !stack.isEmpty else { break }
                stack[stack.count - 1].expectingKey = true
                stack[stack.count - 1].index += 1
            case UInt8(ascii: "\""):
                guard let top = stack.indices.last, stack[top].isObject, stack[top].expectingKey else {
                    skipString(bytes, from: &position)
                    break
                }
                let text = string(bytes, from: &position)
                if !stack[top].keys.insert(text).inserted { found.append(path(stack.dropLast(), key: text)) }
                stack[top].current = text
                stack[top].expectingKey = false
            default: break
            }
        }
        return found
    }

    /// `a.b[2].key`, in the form SpecReader names fields.
    private static func path(_ frames: ArraySlice<Frame>, key: String) -> String {
        var path = ""
        for frame in frames {
            if frame.isObject {
                let shown = FieldRules.pathComponent(frame.current ?? "")
                path = path.isEmpty ? shown : "\(path).\(shown)"
            } else {
                path += "[\(frame.index)]"
            }
        }
        let shown = FieldRules.pathComponent(key)
        return path.isEmpty ? shown : "\(path).\(shown)"
    }

    /// Moves `position` past the string whose opening quote is just before it.
    private static func skipString(_ bytes: [UInt8], from position: inout Int) {
        while position < bytes.count {
            let byte = bytes[position]
            position += byte == UInt8(ascii: "\\") ? 2 : 1
            if byte == UInt8(ascii: "\"") { return }
        }
    }

    /// The string whose opening quote is just before `position`, unescaped;
    /// `position` ends after its closing quote.
    private static func string(_ bytes: [UInt8], from position: inout Int) -> String {
        var raw: [UInt8] = []
        var scalars = String.UnicodeScalarView()
        var escaped = false
        func flush() {
            scalars.append(contentsOf: String(decoding: raw, as: UTF8.self).unicodeScalars)
            raw.removeAll()
        }
        while position < bytes.count {
            let byte = bytes[position]
            position += 1
            if byte == UInt8(ascii: "\"") { break }
            guard byte == UInt8(ascii: "\\"), position < bytes.count else {
                raw.append(byte)
                continue
            }
            escaped = true
            let code = bytes[position]
            position += 1
            switch code {
            case UInt8(ascii: "b"): raw.append(0x08)
            case UInt8(ascii: "f"): raw.append(0x0C)
            case UInt8(ascii: "n"): raw.append(0x0A)
            case UInt8(ascii: "r"): raw.append(0x0D)
            case UInt8(ascii: "t"): raw.append(0x09)
            case UInt8(ascii: "u"):
                var value = hex4(bytes, &position)
                // A high surrogate is followed by \uDC00-\uDFFF (JSONDecoder refused it otherwise).
                if (0xD800...0xDBFF).contains(value), position + 1 < bytes.count, bytes[position] == UInt8(ascii: "\\") {
                    position += 2
                    value = 0x10000 + ((value - 0xD800) << 10) + (hex4(bytes, &position) - 0xDC00)
                }
                flush()
                scalars.append(Unicode.Scalar(value) ?? "\u{FFFD}")
            default: raw.append(code)
            }
        }
        if !escaped { return String(decoding: raw, as: UTF8.self) }
        flush()
        return String(scalars)
    }

    private static func hex4(_ bytes: [UInt8], _ position: inout Int) -> UInt32 {
        let end = min(position + 4, bytes.count)
        let value = UInt32(String(decoding: bytes[position..<end], as: UTF8.self), radix: 16) ?? 0xFFFD
        position = end
        return value
    }
}
