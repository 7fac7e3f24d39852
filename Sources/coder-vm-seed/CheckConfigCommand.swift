import ArgumentParser
import Seed
import WorkspaceSpec

struct CheckConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config",
        abstract: "Check a workspace spec (YAML or JSON) and print every problem with its field path.",
        discussion: "Exit codes: 0 valid, 66 the file is missing or unreadable, 78 (EX_CONFIG) invalid."
    )

    @Argument(help: "The spec file; - reads standard input.")
    var file: String

    @Option(help: "Also check what depends on the distribution (e.g. the install package type).")
    var distro: String?

    func run() throws {
        try reportingErrors { () throws(SeedError) in
            let spec = try SpecInput.load(path: file)
            let preset = try distro.map { name throws(SeedError) in
                guard let preset = DistributionPreset.named(name) else {
                    throw .invalidOption("--distro \(name): not a preset (\(DistributionPreset.names.joined(separator: ", ")))")
                }
                return preset
            }
            do throws(InvalidSpec) {
                let normalized = try SpecNormalizer.normalize(spec)
                if let preset { try SpecNormalizer.check(normalized, for: preset) }
            } catch {
                throw .invalidSpec(InvalidSpec(source: SpecInput.displayName(file), diagnostics: error.diagnostics))
            }
            print("\(SpecInput.displayName(file)): valid; components: \(spec.enabledComponents.map(\.rawValue).joined(separator: " "))")
        }
    }
}
