import Bootstrap
import WorkspaceSpec

/// What `status --wait` writes when standard output is not a terminal (a
/// Coder startup-script log, a file, a pipe): plain lines, one per change,
/// each stamped with the daemon's time since it started, no escape codes.
///
///         1s  coder-vm-bootstrap 0.1.0 on Debian GNU/Linux 12 (bookworm): starting
///         1s  ssh: converging
///         1s  code-server: converging, downloading code-server 4.96.4: 12% of 120.0 MB at 3.1 MB/s
///         5s  ssh: ready
///        41s  code-server: ready
///        41s  ready
///
/// A download is logged once per tenth of its size (per 10 MB when the
/// size is unknown), not once per progress report, so a slow link does not
/// flood the log.
struct StatusChangeLog {
    /// The daemon whose status was last seen (a restarted one starts over).
    private var daemon: (pid: Int32, startedAt: Double)?
    private var phase: WorkspaceStatus.Phase?
    private var components: [ComponentName: String] = [:]
    private var waitingForDaemon = false

    /// The lines that tell what changed since the last call.
    mutating func lines(_ status: WorkspaceStatus?, statusFile: String) -> [String] {
        guard let status else {
            defer { waitingForDaemon = true }
            return waitingForDaemon ? [] : ["waiting for coder-vm-bootstrap.service: no status at \(statusFile) yet"]
        }
        waitingForDaemon = false
        var lines: [String] = []
        let stamp = StatusFormat.duration(seconds: StatusFormat.seconds(from: status.startedAt, to: status.updatedAt)).leftPadding(6) + "  "
        let thisDaemon = (status.daemonPID, status.startedAt.timeIntervalSinceReferenceDate)
        if daemon.map({ $0 != thisDaemon }) ?? true {
            daemon = thisDaemon
            phase = status.phase
            components = [:]
            lines.append(stamp + "coder-vm-bootstrap \(status.daemonVersion)" + (status.host.map { " on \($0)" } ?? "") + ": \(status.phase.rawValue)")
        }
        for component in status.components where component.state != .disabled {
            let (key, activity) = Self.describe(component)
            guard components[component.name] != key else { continue }
            components[component.name] = key
            lines.append(stamp + "\(component.name.rawValue): \(component.state.rawValue)" + (activity.isEmpty ? "" : ", \(activity)"))
        }
        if status.phase != phase {
            phase = status.phase
            lines.append(stamp + StatusLine.text(status))
        }
        return lines.map(\.terminalSafe)
    }

    /// What is logged for a component, and the key that says whether it
    /// changed: its state and activity, a download counted in tenths.
    private static func describe(_ component: ComponentStatus) -> (key: String, activity: String) {
        let state = component.state.rawValue
        if let progress = component.progress {
            let step = progress.fraction.map { "\(Int($0 * 10))/10" } ?? "\(progress.bytes / 10_000_000)x10MB"
            return (
                "\(state) downloading \(progress.what) \(step)",
                "downloading \(progress.what): \(StatusFormat.amount(progress)) at \(StatusFormat.rate(progress))"
            )
        }
        let activity = component.state == .failed ? component.lastError ?? "" : component.detail ?? ""
        return ("\(state) \(activity)", activity)
    }
}
