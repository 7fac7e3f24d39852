import ArgumentParser
import CGlibcCompat
import WorkspaceSpec

@main
struct CoderVMBootstrap: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "coder-vm-bootstrap",
        abstract: "Turns a KubeVirt VM into a Coder workspace: SSH, docker, code-server and the Coder agent, supervised under systemd.",
        version: BuildInfo.version,
        subcommands: [
            RunCommand.self, StatusCommand.self, CheckConfigCommand.self, PrepareStartCommand.self,
            FetchWorkerCommand.self,
        ]
    )

    /// `--version` alone is answered before ArgumentParser builds its command
    /// tree, whose first protocol-conformance lookups cost more than the
    /// rest of the start (bench/README.md); everything else is the parser's,
    /// as ArgumentParser's own main() does it.
    static func main() async {
        if CommandLine.arguments.dropFirst().elementsEqual(["--version"]) {
            print(BuildInfo.version)
            return
        }
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            exit(withError: error)
        }
    }
}
