import Foundation
import WorkspaceSpec

/// How the spec reaches the daemon on every boot: a bootcmd (cloud-init
/// runs bootcmd on every boot, re-reading the user-data from the NoCloud
/// disk) writes it to tmpfs, so it is always this boot's spec with this
/// build's agent token, and the token is in no argv and no world-readable
/// file (umask 077, written by the shell from a quoted here-document).
public enum SpecDelivery {
    /// Where the daemon looks first.
    public static let path = SpecFile.searchPaths[0]
    public static let heredocDelimiter = "CODER_VM_SPEC"

    /// The spec as one line of JSON, keys sorted, in ASCII only.
    ///
    /// JSON escapes line breaks, so the quoted here-document's delimiter can
    /// never stand on a line of its own inside it. Non-ASCII characters are
    /// escaped as `\uXXXX` too: YAML readers treat U+0085, U+2028 and U+2029
    /// as line breaks, so such a character must never stand raw in the
    /// here-document's text. (libyaml would also escape it, but only by
    /// turning the whole bootcmd into one unreadable double-quoted line;
    /// this way it stays a literal block whatever the values.) The daemon's
    /// JSON decoder reads the escapes back to the same characters.
    public static func json(_ spec: WorkspaceSpec) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return asciiJSON(String(decoding: try encoder.encode(spec), as: UTF8.self))
    }

    /// The one bootcmd item.
    public static func bootCommand(_ spec: WorkspaceSpec) throws -> String {
        let json = try json(spec)
        precondition(!json.contains("\n") && json.allSatisfy(\.isASCII), "the spec JSON must be one ASCII line")
        let directory = (path as NSString).deletingLastPathComponent
        return """
            umask 077 && mkdir -p \(directory) && cat > \(path).tmp <<'\(heredocDelimiter)'
            \(json)
            \(heredocDelimiter)
            mv -f \(path).tmp \(path)

            """
    }

    /// Replaces every character outside printable ASCII with its JSON
    /// escape. JSON text has such characters only inside strings, where the
    /// escape means the same character.
    static func asciiJSON(_ json: String) -> String {
        var output = String.UnicodeScalarView()
        for scalar in json.unicodeScalars {
            if scalar.value >= 0x20 && scalar.value < 0x7F {
                output.append(scalar)
                continue
            }
            for unit in String(scalar).utf16 {
                let hex = String(unit, radix: 16)
                output.append(contentsOf: ("\\u" + String(repeating: "0", count: 4 - hex.count) + hex).unicodeScalars)
            }
        }
        return String(output)
    }
}
