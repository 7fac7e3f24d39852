import HostSystem
import WorkspaceSpec

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The last boot's spec, kept under /var/lib WITHOUT its token, so that a
/// warm boot can start what needs no secret (the user, code-server; ssh and
/// docker once cloud-init's init stage is over, see `Component.afterUnits`)
/// before cloud-init has delivered this boot's spec. The
/// components that use the token (`Component.usesSecrets`) are never
/// started from it: they wait for this boot's spec, so the token in force
/// is always this boot's.
public enum LastBootSpec {
    /// Stands where the token was. Never written anywhere a program reads a
    /// token from: the components that would use it wait for the real spec.
    static let tokenPlaceholder = "this-boots-token-comes-with-this-boots-spec"

    public static func save(_ spec: WorkspaceSpec, paths: Paths) throws {
        var kept = spec
        if kept.coder?.token != nil { kept.coder?.token = tokenPlaceholder }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let file = FilePathParts(paths.lastBootSpec)
        try Directory.system(file.directory, creating: .init()).writeFile(file.name, Array(try encoder.encode(kept)), mode: 0o600)
    }

    /// The last boot's spec, or nil when there is none (a first boot) or it
    /// no longer decodes (a newer daemon's format): then the daemon waits
    /// for this boot's spec as on a first boot.
    public static func load(paths: Paths) -> WorkspaceSpec? {
        let file = FilePathParts(paths.lastBootSpec)
        guard let folder = try? Directory.system(file.directory), let bytes = try? folder.readFile(file.name) else { return nil }
        return try? SpecDecoder.decode(json: Data(bytes), source: paths.lastBootSpec)
    }
}
