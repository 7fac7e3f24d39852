import ArgumentParser
import Bootstrap
import Logging
import WorkspaceSpec

/// A template unit's ExecStartPre: the component's work before each start of
/// its program (the agent revalidates its binary: one 304 when unchanged,
/// skipped when the daemon checked a moment ago; never blocking a binary
/// that is there when the server cannot be reached).
struct PrepareStartCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prepare-start",
        abstract: "Prepare a component's program before its unit starts it (run by the template units).",
        shouldDisplay: false
    )

    @Argument(help: "The component (agent, code-server).")
    var component: String

    @Argument(help: "The workspace user (the unit's instance name).")
    var user: String

    func run() async throws {
        guard let name = ComponentName(rawValue: component) else {
            printError("unknown component \(component)")
            throw ExitCode.specInvalid
        }
        guard let path = SpecFile.locate() else { throw ExitCode.specMissing }
        let spec: WorkspaceSpec
        do { spec = try SpecFile.load(path: path) } catch {
            printError(error.description)
            throw ExitCode.specInvalid
        }
        let host = HostDetection.current()
        guard spec.user.name == user, let component = ComponentCatalog.component(name, for: spec, host: host) else {
            printError("the spec at \(path) has no \(name.rawValue) for user \(user)")
            throw ExitCode.specInvalid
        }
        let context = ComponentContext.standalone(
            spec: spec, host: host, component: name,
            logger: Logger(label: "coder-vm-bootstrap"), report: printError)
        try await component.prepareStart(context)
    }
}
