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

    /// Reads, decodes and checks the spec at `path`. At most one byte more
    /// than `SpecDecoder.maximumDocumentBytes` is read, so a huge file is
    /// refused (as too large) without being held in memory, and only a
    /// regular file is read at all (a FIFO or device would block or never end).
    public static func load(path: String) throws(LoadError) -> WorkspaceSpec {
        let data = try contents(of: path, limit: SpecDecoder.maximumDocumentBytes + 1)
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
            problems.append(
                SpecDiagnostic(
                    path: "coder.token", message: "\(specPath) holds the agent token but has mode \(octal(mode))",
                    hint: "chmod 600 \(specPath)"))
        }
        if let tokenFile = spec.coder?.tokenFile {
            if let mode = permissionBits(tokenFile) {
                if mode & 0o077 != 0 {
                    problems.append(
                        SpecDiagnostic(
                            path: "coder.tokenFile", message: "\(tokenFile) is readable by others (mode \(octal(mode)))",
                            hint: "chmod 600 \(tokenFile)"))
                }
            } else {
                problems.append(
                    SpecDiagnostic(
                        path: "coder.tokenFile", message: "\(tokenFile) does not exist", hint: "write the agent token there with mode 0600"))
            }
        }
        return problems
    }

    /// Up to `limit` bytes of the regular file at `path`: open(2) without
    /// blocking (a FIFO would wait for a writer), fstat(2), read(2).
    static func contents(of path: String, limit: Int) throws(LoadError) -> Data {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY)
        guard fd >= 0 else {
            throw .unreadable(path: path, reason: errno == ENOENT ? "does not exist" : "cannot be read (\(String(cString: strerror(errno))))")
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG else {
            throw .unreadable(path: path, reason: "is not a regular file")
        }
        var data = Data(count: limit)
        var filled = 0
        while filled < limit {
            let count = data.withUnsafeMutableBytes { read(fd, $0.baseAddress! + filled, limit - filled) }
            if count < 0, errno == EINTR { continue }
            guard count >= 0 else { throw .unreadable(path: path, reason: "cannot be read (\(String(cString: strerror(errno))))") }
            if count == 0 { break }
            filled += count
        }
        return data.prefix(filled)
    }

    /// The permission bits of `path` (stat(2)), or nil when it does not exist.
    static func permissionBits(_ path: String) -> mode_t? {
        var info = stat()
        return stat(path, &info) == 0 ? info.st_mode & 0o7777 : nil
    }

    private static func octal(_ mode: mode_t) -> String { "0" + String(mode, radix: 8) }
}
