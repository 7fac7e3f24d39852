import Bootstrap

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// What `status --wait` shows on a terminal, redrawn in place: a header with
/// the phase and the time since the daemon started, then one line per
/// enabled component with its state, how long it has been in it, and what it
/// is doing, or a progress bar while it downloads.
///
///     starting  1m03s  coder-vm-bootstrap 0.1.0 on Debian GNU/Linux 12 (bookworm)
///       ssh          ready         59s  up after 4.1 s
///       docker       starting      21s  waiting for /run/docker.sock
///       code-server  converging    13s  [########------------]   41%  49.2/120.0 MB  3.1 MB/s  code-server 4.96.4
///       agent        pending            waiting for code-server
///
/// Every line is cut to `width` columns; colour (when asked for) only wraps
/// the phase and state words, so it never counts against the width.
struct StatusFrame {
    var width: Int
    var colour: Bool

    func lines(_ status: WorkspaceStatus?, statusFile: String, now: Date) -> [String] {
        guard let status else {
            return [line(plain: "waiting for coder-vm-bootstrap.service: no status at \(statusFile) yet", styled: "", style: nil, rest: "")]
        }
        let elapsed = StatusFormat.duration(seconds: StatusFormat.seconds(from: status.startedAt, to: now))
        let about = "coder-vm-bootstrap \(status.daemonVersion)" + (status.host.map { " on \($0)" } ?? "")
        var lines = [line(plain: "", styled: status.phase.rawValue, style: Self.style(of: status.phase), rest: "  \(elapsed)  \(about)")]
        for component in status.components where component.state != .disabled {
            let name = "  " + component.name.rawValue.padding(13)
            let inState = component.since.map { StatusFormat.duration(seconds: StatusFormat.seconds(from: $0, to: now)) } ?? ""
            let activity = activity(component)
            let rest = inState.leftPadding(6) + (activity.isEmpty ? "" : "  " + activity)
            lines.append(line(plain: name, styled: component.state.rawValue.padding(11), style: Self.style(of: component.state), rest: rest))
        }
        return lines
    }

    /// The progress bar while downloading, else what the component says it
    /// is doing (or why it failed, or when it came up).
    private func activity(_ component: ComponentStatus) -> String {
        if let progress = component.progress {
            let rate = StatusFormat.rate(progress)
            guard let total = progress.totalBytes, let fraction = progress.fraction else {
                return "\(StatusFormat.megabytes(progress.bytes)) MB  \(rate)  \(progress.what)"
            }
            let percent = "\(StatusFormat.percent(fraction))%".leftPadding(4)
            let amount = "\(StatusFormat.megabytes(progress.bytes))/\(StatusFormat.megabytes(total)) MB"
            return "\(StatusFormat.bar(fraction))  \(percent)  \(amount)  \(rate)  \(progress.what)"
        }
        if component.state == .failed, let error = component.lastError { return error }
        if let detail = component.detail { return detail }
        if component.state == .ready, let ready = component.readyAfterMilliseconds {
            return "up after \(StatusFormat.seconds(milliseconds: ready))"
        }
        return ""
    }

    /// `plain` + `styled` + `rest`, made safe and cut to the width; the
    /// styled part is coloured only when it survives the cut whole.
    private func line(plain: String, styled: String, style: String?, rest: String) -> String {
        let text = (plain + styled + rest).terminalSafe.truncated(to: width)
        guard colour, let style, text.count >= plain.count + styled.count else { return text }
        let head = text.prefix(plain.count)
        let word = text.dropFirst(plain.count).prefix(styled.count)
        let tail = text.dropFirst(plain.count + styled.count)
        // Colour the word without its padding.
        let trimmed = word.reversed().drop(while: { $0 == " " }).reversed()
        let padding = String(repeating: " ", count: word.count - trimmed.count)
        return head + "\u{1B}[\(style)m" + String(trimmed) + "\u{1B}[0m" + padding + tail
    }

    /// SGR colours: green ready, yellow unwell or still coming, red failed.
    static func style(of state: ComponentState) -> String? {
        switch state {
        case .ready: "32"
        case .unhealthy, .restarting, .blocked: "33"
        case .failed: "31"
        case .pending, .converging, .starting, .disabled: nil
        }
    }

    static func style(of phase: WorkspaceStatus.Phase) -> String? {
        switch phase {
        case .ready: "32"
        case .degraded, .starting: "33"
        case .failed: "31"
        case .stopping: nil
        }
    }
}
