import ArgumentParser
import Bootstrap
import HostSystem
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
        let execToMain = Machine.processAge
        BrokenPipes.failWrites()
        JournalLogHandler.bootstrap(identifier: "coder-vm-bootstrap")
        let logger = Logger(label: "coder-vm-bootstrap")
        let notifier = Notifier()
        let clock = ContinuousClock()
        let reading = clock.now
        var engine: Engine
        if let path = spec ?? SpecFile.locate() {
            engine = Engine(spec: try load(path, logger: logger, notifier: notifier), specPath: path, logger: logger)
        } else if let last = LastBootSpec.load(paths: Paths()) {
            // A warm boot before cloud-init has written this boot's spec.
            engine = Engine(spec: last, specPath: Paths().lastBootSpec, logger: logger)
            engine.bootSpecPending = true
        } else {
            let message =
                "no workspace spec: none of \(SpecFile.searchPaths.joined(separator: ", ")) exists; cloud-init writes the first from the user-data coder-vm-seed renders"
            logger.error("\(message)", metadata: [MessageID.metadataKey: .messageID(.configInvalid)])
            _ = try? notifier.send([.status(message)])
            throw ExitCode.specMissing
        }
        engine.earlierStages = (execToMain.map { [("exec", $0)] } ?? []) + [("spec", reading.duration(to: clock.now))]
        logger.info(
            "starting \(BuildInfo.version) with \(engine.specPath ?? "")\(engine.bootSpecPending ? " (the last boot's, until this boot's arrives)" : "")",
            metadata: ["stage": "start"])
        do {
            try await engine.run()
        } catch let error as SpecFile.LoadError {
            // This boot's spec arrived after the daemon started, and is not usable.
            throw Self.report(error, logger: logger, notifier: notifier)
        }
    }

    private func load(_ path: String, logger: Logger, notifier: Notifier) throws -> WorkspaceSpec {
        do {
            return try SpecFile.load(path: path)
        } catch {
            throw Self.report(error, logger: logger, notifier: notifier)
        }
    }

    /// One journal entry per problem, so each field path is searchable; the
    /// exit code that keeps systemd from restarting (66 or 78).
    static func report(_ error: SpecFile.LoadError, logger: Logger, notifier: Notifier) -> ExitCode {
        if case .invalid(let invalid) = error {
            for diagnostic in invalid.diagnostics {
                logger.error(
                    "\(invalid.source ?? "spec"): \(diagnostic)",
                    metadata: ["field": .string(diagnostic.path), MessageID.metadataKey: .messageID(.configInvalid)])
            }
        } else {
            logger.error("\(error)", metadata: [MessageID.metadataKey: .messageID(.configInvalid)])
        }
        _ = try? notifier.send([.status("invalid spec: see journalctl -u coder-vm-bootstrap")])
        switch error {
        case .unreadable: return ExitCode.specMissing
        case .invalid: return ExitCode.specInvalid
        }
    }
}
