import ArgumentParser
import Bootstrap
import Glibc
import WorkspaceSpec

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show the workspace's readiness; optionally wait for it (for Coder's startup script).",
        discussion: """
            Exit codes: 0 ready, 1 still starting (or --timeout passed), 2 degraded (an optional component \
            is unwell), 3 failed, 4 not running (not installed, disabled or stopped; returned at once).
            With --wait on a terminal the components' progress is redrawn in place; on a pipe or file \
            (a startup-script log) a plain line is written per change. --line without --wait always exits 0 \
            (Coder shows a metadata script's non-zero exit as an error); --probe exits 0 when ready, else 1.
            """
    )

    @Flag(help: "Wait until the workspace is ready, degraded or failed, showing progress.")
    var wait = false

    @Option(help: "With --wait: give up after this many seconds (exit 1).")
    var timeout: Int = 600

    @Flag(help: "Print the status as JSON (with --wait: only the final document).")
    var json = false

    @Flag(help: "Print one short line (for a coder_agent metadata block): \"ready\", \"starting: ...\", \"not running\".")
    var line = false

    @Flag(help: "No output; exit 0 if every required component is ready (what /readyz answers), else 1. For an exec readiness probe.")
    var probe = false

    // For tests: the status file of a daemon that is not installed here.
    @Option(help: .hidden)
    var statusFile: String?

    static let enabledLink = "/etc/systemd/system/multi-user.target.wants/coder-vm-bootstrap.service"
    static let pollInterval: Duration = .milliseconds(500)

    func validate() throws {
        if probe, wait || json || line { throw ValidationError("--probe gives its answer at once and only as an exit code: use it alone") }
        if json, line { throw ValidationError("choose one of --json and --line") }
        if timeout < 1 { throw ValidationError("--timeout must be at least 1 second") }
    }

    func run() async throws {
        let file = statusFile ?? Paths().statusFile
        if probe { throw ExitCode(Self.read(file)?.isReady == true ? 0 : 1) }
        var view = wait && !json && !line ? StatusWaitView.forStandardOutput(environment: ProcessInfo.processInfo.environment) : .silent
        let deadline = ContinuousClock.now + .seconds(timeout)
        while true {
            let status = Self.read(file)
            let code = Self.exitCode(for: status)
            let daemonWillCome = status == nil && access(Self.enabledLink, F_OK) == 0
            let timedOut = ContinuousClock.now >= deadline
            if !wait || (code != 1 && !daemonWillCome) || timedOut {
                view.finish(status, statusFile: file)
                StandardOutput.write(output(status, file) + "\n")
                if wait, timedOut, code == 1 || daemonWillCome { printError("timed out after \(timeout) s; still starting") }
                if line, !wait { throw ExitCode.success }
                throw ExitCode(daemonWillCome && wait ? 1 : code)
            }
            view.show(status, statusFile: file, now: Date())
            try await Task.sleep(for: Self.pollInterval)
        }
    }

    private func output(_ status: WorkspaceStatus?, _ file: String) -> String {
        if line { return StatusLine.text(status) }
        guard let status else { return StatusReport.notRunning(file) }
        return json ? Self.json(status) : StatusReport.text(status)
    }

    /// The status file, or nil when the daemon that wrote it is gone.
    static func read(_ path: String) -> WorkspaceStatus? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        guard let status = try? decoder.decode(WorkspaceStatus.self, from: data) else { return nil }
        return kill(status.daemonPID, 0) == 0 || errno == EPERM ? status : nil
    }

    static func exitCode(for status: WorkspaceStatus?) -> Int32 {
        guard let status else { return 4 }
        if status.isReady { return status.phase == .degraded ? 2 : 0 }
        switch status.phase {
        case .ready: return 0
        case .starting: return 1
        case .degraded: return 2
        case .failed: return 3
        case .stopping: return 4
        }
    }

    static func json(_ status: WorkspaceStatus) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        return (try? encoder.encode(status)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }
}
