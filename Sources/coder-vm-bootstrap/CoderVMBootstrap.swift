import CGlibcCompat
import ArgumentParser
import WorkspaceSpec

@main
struct CoderVMBootstrap: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "coder-vm-bootstrap",
        abstract: "Turns a KubeVirt VM into a Coder workspace: SSH, docker, code-server and the Coder agent, supervised under systemd.",
        version: BuildInfo.version,
        subcommands: [RunCommand.self, StatusCommand.self, CheckConfigCommand.self, PrepareStartCommand.self]
    )
}
