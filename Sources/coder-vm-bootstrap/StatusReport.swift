import Bootstrap

/// What `status` prints (and `status --wait` at the end): per component its
/// state, restarts, stage timings, what it is doing, its last error and
/// journal tail.
enum StatusReport {
    static func text(_ status: WorkspaceStatus) -> String {
        // The summary (systemd's STATUS=) begins with the phase, except "ready: ssh ...".
        let phase = status.phase.rawValue
        var lines = [status.summary.hasPrefix(phase) ? status.summary : "\(phase): \(status.summary)"]
        if let ready = status.readyAfterMilliseconds { lines.append("ready after \(ready) ms") }
        if let stages = status.stages, !stages.isEmpty {
            // The daemon's own start: process start to main, the spec read, connecting to systemd.
            lines.append("daemon stages: " + stages.map { "\($0.stage) \($0.milliseconds) ms" }.joined(separator: ", "))
        }
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
            if let progress = component.progress {
                lines.append("      downloading \(progress.what): \(StatusFormat.amount(progress)) at \(StatusFormat.rate(progress))")
            } else if let detail = component.detail {
                lines.append("      now: \(detail)")
            }
            if let error = component.lastError { lines.append("      last error: \(error)") }
            for journalLine in component.journalTail ?? [] { lines.append("      | \(journalLine)") }
        }
        for note in status.notes { lines.append("note: \(note)") }
        lines.append("logs: journalctl -u coder-vm-bootstrap [COMPONENT=<name>]")
        return lines.map(\.terminalSafe).joined(separator: "\n")
    }

    static func notRunning(_ file: String) -> String {
        "not running: no status at \(file) (coder-vm-bootstrap.service not started, disabled or not installed)"
    }
}
