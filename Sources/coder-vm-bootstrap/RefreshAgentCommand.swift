import ArgumentParser
import Bootstrap
import WorkspaceSpec

/// The agent unit's ExecStartPre: every (re)start of the agent revalidates
/// its binary against the Coder server (one 304 when unchanged), unless the
/// daemon checked it a moment ago.
struct RefreshAgentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "refresh-agent",
        abstract: "Revalidate the Coder agent binary with the server's ETag (run by coder-agent@.service).",
        shouldDisplay: false
    )

    @Argument(help: "The workspace user (the unit's instance name).")
    var user: String

    func run() async throws {
        let paths = Paths()
        guard !CoderAgentComponent.checkedRecently(paths) else { return }
        guard let path = SpecFile.locate() else { throw ExitCode.specMissing }
        let spec: WorkspaceSpec
        do { spec = try SpecFile.load(path: path) } catch {
            printError(error.description)
            throw ExitCode.specInvalid
        }
        guard let coder = spec.coder, spec.user.name == user else {
            printError("the spec at \(path) has no Coder agent for user \(user)")
            throw ExitCode.specInvalid
        }
        let downloads = DownloadService(spec: spec, extraCABundle: coder.caCertificates.isEmpty ? nil : paths.caBundle)
        _ = try await CoderAgentComponent.refreshBinary(coder: coder, paths: paths, downloads: downloads) { line in printError(line) }
    }
}
