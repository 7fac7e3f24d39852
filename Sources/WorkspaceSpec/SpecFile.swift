#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif

/// Where the daemon finds its spec, and the checks that need the file system.
public enum SpecFile {
    /// Searched in order. cloud-init writes the first one on every boot (so it
    /// is always this boot's, with this build's token); images configured by
    /// hand use the second.
    public static let searchPaths = ["/run/coder-vm-bootstrap/spec.json", "/etc/coder-vm-bootstrap/spec.json"]

    /// The first of `searchPaths` that exists.
    public static func locate() -> String? {
        searchPaths.first { access($0, F_OK) == 0 }
    }

    public enum LoadError: Error, CustomStringConvertible {
        /// The file is not there or cannot be read.
        case unreadable(path: String, reason: String)
        case invalid(InvalidSpec)

        public var description: String {
            switch self {
            case .unreadable(let path, let reason): "\(path) \(reason)"
            case .invalid(let invalid): invalid.description
            }
        }
    }

    /// Reads, decodes and checks the spec at `path`.
    public static func load(path: String) throws(LoadError) -> WorkspaceSpec {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .unreadable(path: path, reason: access(path, F_OK) == 0 ? "cannot be read (permissions?)" : "does not exist")
        }
        do throws(InvalidSpec) {
            let spec = try SpecDecoder.decode(json: data, source: path)
            let problems = hostProblems(spec, specPath: path)
            if !problems.isEmpty { throw InvalidSpec(source: path, diagnostics: problems) }
            return spec
        } catch {
            throw .invalid(error)
        }
    }

    /// Secrets must not be readable by other users: the spec itself when it
    /// carries a token, and the token file.
    public static func hostProblems(_ spec: WorkspaceSpec, specPath: String?) -> [SpecDiagnostic] {
        var problems: [SpecDiagnostic] = []
        if let specPath, spec.coder?.token != nil, let mode = permissionBits(specPath), mode & 0o077 != 0 {
            problems.append(SpecDiagnostic(
                path: "coder.token", message: "\(specPath) holds the agent token but has mode \(octal(mode))",
                hint: "chmod 600 \(specPath)"))
        }
        if let tokenFile = spec.coder?.tokenFile {
            if let mode = permissionBits(tokenFile) {
                if mode & 0o077 != 0 {
                    problems.append(SpecDiagnostic(
                        path: "coder.tokenFile", message: "\(tokenFile) is readable by others (mode \(octal(mode)))",
                        hint: "chmod 600 \(tokenFile)"))
                }
            } else {
                problems.append(SpecDiagnostic(
                    path: "coder.tokenFile", message: "\(tokenFile) does not exist", hint: "write the agent token there with mode 0600"))
            }
        }
        return problems
    }

    /// The permission bits of `path` (stat(2)), or nil when it does not exist.
    static func permissionBits(_ path: String) -> mode_t? {
        var info = stat()
        return stat(path, &info) == 0 ? info.st_mode & 0o7777 : nil
    }

    private static func octal(_ mode: mode_t) -> String { "0" + String(mode, radix: 8) }
}
