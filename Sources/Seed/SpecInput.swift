import Foundation
import WorkspaceSpec

/// Reads a spec file (or standard input for `-`) into a tree.
public enum SpecInput {
    public static let standardInput = "-"

    public static func readText(path: String) throws(SeedError) -> String {
        let data: Data
        if path == standardInput {
            data = FileHandle.standardInput.readDataToEndOfFile()
        } else {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                throw .unreadable(path: path, reason: "does not exist")
            }
            guard !isDirectory.boolValue else { throw .unreadable(path: path, reason: "is a directory") }
            guard let contents = FileManager.default.contents(atPath: path) else {
                throw .unreadable(path: path, reason: "cannot be read (permissions?)")
            }
            data = contents
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw .invalidSpec(
                InvalidSpec(source: displayName(path), document: "not UTF-8 text", hint: "save the file as UTF-8"))
        }
        return text
    }

    /// The file's tree, or an empty spec when there is no file (the flags
    /// must then say everything).
    public static func loadTree(path: String?) throws(SeedError) -> JSONValue {
        guard let path else { return .object(["apiVersion": .string(WorkspaceSpec.currentAPIVersion)]) }
        let text = try readText(path: path)
        do throws(InvalidSpec) {
            return try SpecTreeParser.parse(text, source: displayName(path))
        } catch {
            throw .invalidSpec(error)
        }
    }

    public static func displayName(_ path: String) -> String {
        path == standardInput ? "standard input" : path
    }
}

extension SpecInput {
    /// The spec from a file (or none) with the overrides applied, decoded
    /// and checked; missing fields name the flag that sets them.
    public static func load(path: String?, overrides: SpecOverrides = .init()) throws(SeedError) -> WorkspaceSpec {
        let tree = overrides.apply(to: try loadTree(path: path))
        do throws(InvalidSpec) {
            return try SpecDecoder.decode(tree, source: path.map(displayName) ?? "the flags")
        } catch {
            throw .invalidSpec(SpecOverrides.withFlagHints(error))
        }
    }
}
