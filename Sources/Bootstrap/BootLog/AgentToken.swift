import HostSystem
import WorkspaceSpec

/// The agent token of this boot: `coder.token`, or the contents of
/// `coder.tokenFile` without surrounding white space.
enum AgentToken {
    static func read(_ coder: CoderSettings) throws -> String {
        if let inline = coder.token { return inline }
        guard let path = coder.tokenFile else {
            throw ComponentError(.configuration, "coder.token or coder.tokenFile is needed with auth: token")
        }
        let file = FilePathParts(path)
        guard let bytes = try Directory.system(file.directory).readFile(file.name, limit: 4096) else {
            throw ComponentError(.configuration, "coder.tokenFile \(path) does not exist")
        }
        return String(decoding: bytes, as: UTF8.self).trimmingWhitespace
    }
}
