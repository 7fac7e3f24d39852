#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Fetch

/// The boot log's log source in Coder: its name and icon on the workspace
/// page, and an id that is the same on every boot of a workspace (Coder
/// keys sources by agent and id, and answers 201 for one that exists), so
/// a boot never adds a second "coder-vm-bootstrap" tab.
enum BootLogSource {
    static let displayName = "coder-vm-bootstrap"
    /// An emoji Coder's dashboard serves (a rocket), like its own "External" source's.
    static let icon = "/emojis/1f680.png"
    /// This project's namespace for the source's version 5 UUID. Never
    /// change it: every workspace's source id depends on it.
    static let namespace = UUID(uuidString: "ebda59df-7e88-469d-acec-7356a894c52c")!

    /// RFC 9562 section 5.5: SHA-1 of the namespace bytes and the lowercased
    /// workspace id, with the version and variant bits set.
    static func id(forWorkspace workspaceID: String) -> String {
        let space = withUnsafeBytes(of: namespace.uuid) { Array($0) }
        var hex = Array(Digest.hex(.sha1, of: space + Array(workspaceID.lowercased().utf8)).prefix(32))
        hex[12] = "5"
        let variant = (Int(String(hex[16]), radix: 16)! & 0x3) | 0x8
        hex[16] = Character(String(variant, radix: 16))
        let text = String(hex)
        return [0..<8, 8..<12, 12..<16, 16..<20, 20..<32].map { range in
            String(text.dropFirst(range.lowerBound).prefix(range.count))
        }.joined(separator: "-")
    }
}
