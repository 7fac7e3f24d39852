import ArgumentParser
import WorkspaceSpec

struct CheckConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config",
        abstract: "Validate a workspace spec (JSON) and print every problem with its field path.",
        discussion: """
            Exit codes: 0 valid, 66 the file is missing or unreadable, 78 (EX_CONFIG) invalid.
            YAML specs are checked on the host with `coder-vm-seed check-config`.
            """
    )

    @Argument(help: "The spec file. Default: the first of \(SpecFile.searchPaths.joined(separator: ", ")) that exists.")
    var file: String?

    func run() throws {
        guard let path = file ?? SpecFile.locate() else {
            printError("no spec file: none of \(SpecFile.searchPaths.joined(separator: ", ")) exists")
            throw ExitCode.specMissing
        }
        do {
            let spec = try SpecFile.load(path: path)
            print("\(path): valid; components: \(spec.enabledComponents.map(\.rawValue).joined(separator: " "))")
        } catch {
            printError(error.description)
            switch error {
            case .unreadable: throw ExitCode.specMissing
            case .invalid: throw ExitCode.specInvalid
            }
        }
    }
}
