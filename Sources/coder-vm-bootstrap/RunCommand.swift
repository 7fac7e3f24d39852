import ArgumentParser
import Bootstrap
import Logging
import SystemdSupport
import WorkspaceSpec

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Converge and supervise the workspace (what coder-vm-bootstrap.service runs).",
        discussion: "Exit codes: 0 stopped by SIGTERM, 66 no spec, 78 invalid spec (systemd does not restart on either), 1 other failure."
    )

    @Option(help: "The spec file. Default: the first of \(SpecFile.searchPaths.joined(separator: ", ")) that exists.")
    var spec: String?

    func run() async throws {
        JournalLogHandler.bootstrap(identifier: "coder-vm-bootstrap")
        let logger = Logger(label: "coder-vm-bootstrap")
        let notifier = Notifier()
        guard let path = spec ?? SpecFile.locate() else {
            let message = "no workspace spec: none of \(SpecFile.searchPaths.joined(separator: ", ")) exists; cloud-init writes the first from the user-data coder-vm-seed renders"
            logger.error("\(message)", metadata: [MessageID.metadataKey: .messageID(.configInvalid)])
            _ = try? notifier.send([.status(message)])
            throw ExitCode.specMissing
        }
        let workspace: WorkspaceSpec
        do {
            workspace = try SpecFile.load(path: path)
        } catch {
            // One journal entry per problem, so each field path is searchable.
            if case .invalid(let invalid) = error {
                for diagnostic in invalid.diagnostics {
                    logger.error("\(path): \(diagnostic)", metadata: ["field": .string(diagnostic.path), MessageID.metadataKey: .messageID(.configInvalid)])
                }
            } else {
                logger.error("\(error)", metadata: [MessageID.metadataKey: .messageID(.configInvalid)])
            }
            _ = try? notifier.send([.status("invalid spec \(path): see journalctl -u coder-vm-bootstrap")])
            switch error {
            case .unreadable: throw ExitCode.specMissing
            case .invalid: throw ExitCode.specInvalid
            }
        }
        logger.info("starting \(BuildInfo.version) with \(path)", metadata: ["stage": "start"])
        try await Engine(spec: workspace, specPath: path, logger: logger).run()
    }
}
