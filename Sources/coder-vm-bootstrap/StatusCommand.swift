#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import ArgumentParser
import Bootstrap
import Glibc
import WorkspaceSpec

struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show the workspace's readiness; optionally wait for it (for Coder's startup script).",
        discussion: """
            Exit codes: 0 ready, 1 still starting (or --timeout passed), 2 degraded (an optional component \
            is unwell), 3 failed, 4 not running (not installed, disabled or stopped; returned at once).
            """
    )

    @Flag(help: "Wait until the workspace is ready, degraded or failed.")
    var wait = false

    @Option(help: "With --wait: give up after this many seconds (exit 1).")
    var timeout: Int = 600

    @Flag(help: "Print the status as JSON.")
    var json = false

    static let enabledLink = "/etc/systemd/system/multi-user.target.wants/coder-vm-bootstrap.service"

    func run() async throws {
        let file = Paths().statusFile
        let deadline = ContinuousClock.now + .seconds(timeout)
        while true {
            let status = Self.read(file)
            let code = Self.exitCode(for: status)
            let daemonWillCome = status == nil && access(Self.enabledLink, F_OK) == 0
            if !wait || (code != 1 && !daemonWillCome) || ContinuousClock.now >= deadline {
                print(status.map { json ? Self.json($0) : Self.text($0) } ?? "not running: no status at \(file) (coder-vm-bootstrap.service not started, disabled or not installed)")
                throw ExitCode(daemonWillCome && wait ? 1 : code)
            }
            try await Task.sleep(for: .milliseconds(500))
        }
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

    static func text(_ status: WorkspaceStatus) -> String {
        // The summary already begins with "ready:", "degraded:" or "failed:".
        var lines = [status.phase == .starting ? "starting: \(status.summary)" : status.summary]
        if let ready = status.readyAfterMilliseconds { lines.append("ready after \(ready) ms") }
        lines.append("")
        for component in status.components where component.state != .disabled {
            var line = "  \(component.name.rawValue.padding(12))\(component.state.rawValue.padding(11))"
            line += component.required ? "required  " : "optional  "
            line += "restarts \(component.restarts)"
            if let ready = component.readyAfterMilliseconds { line += ", ready after \(ready) ms" }
            lines.append(line)
            if !component.stages.isEmpty {
                lines.append("      stages: " + component.stages.map { "\($0.stage) \($0.milliseconds) ms" }.joined(separator: ", "))
            }
            if let detail = component.detail { lines.append("      now: \(detail)") }
            if let error = component.lastError { lines.append("      last error: \(error)") }
            for journalLine in component.journalTail ?? [] { lines.append("      | \(journalLine)") }
        }
        for note in status.notes { lines.append("note: \(note)") }
        lines.append("logs: journalctl -u coder-vm-bootstrap [COMPONENT=<name>]")
        return lines.joined(separator: "\n")
    }
}

extension String {
    func padding(_ width: Int) -> String { count >= width ? self + " " : self + String(repeating: " ", count: width - count) }
}
