import WorkspaceSpec

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The daemon's events as the boot log's lines: one short line for each
/// thing a person waiting on the workspace page wants to know (what is
/// being done, what is waited for and why, what is ready, what failed and
/// what to do), in the board's words where the board has them. Every line
/// is stripped of the spec's secrets and of control characters and cut to
/// `maxLineBytes`.
///
/// Left out: `pending`, `converging` and `stage` (no news for a person),
/// a download's start and failure (the component's own progress line and
/// its `waiting` or `failed` event say the same), and a restart the daemon
/// made (its `restarting` line said so).
struct BootLogTranscript: Sendable {
    struct Pace: Sendable {
        /// The least time between two progress lines of one download.
        var interval: Duration = .seconds(5)
        /// A progress line only when the download has passed a new multiple of this many percent.
        var percentStep = 10
        /// The least time between two progress lines when the size is unknown.
        var intervalWithoutTotal: Duration = .seconds(30)
    }

    let redaction: SecretRedaction
    let maxLineBytes: Int
    let pace: Pace
    /// The last progress line of each component's current download.
    private var lastProgress: [ComponentName: (at: ContinuousClock.Instant, percent: Int?)] = [:]
    private var phase = WorkspaceStatus.Phase.starting

    init(redaction: SecretRedaction, maxLineBytes: Int, pace: Pace = Pace()) {
        self.redaction = redaction
        self.maxLineBytes = maxLineBytes
        self.pace = pace
    }

    /// The first line: which daemon, where, bringing up what, and what is
    /// ready already (on a warm boot, what needs no token starts from the
    /// last boot's spec before this boot's, and the boot log, arrives).
    func opening(_ status: WorkspaceStatus) -> BootLogLine {
        let enabled = status.components.filter { $0.state != .disabled }
        let ready = enabled.filter { $0.state == .ready }.map(\.name.rawValue)
        let host = status.host.map { " on \($0)" } ?? ""
        return line(
            .info,
            "coder-vm-bootstrap \(status.daemonVersion)\(host): bringing up \(enabled.map(\.name.rawValue).joined(separator: " "))"
                + (ready.isEmpty ? "" : "; ready already: \(ready.joined(separator: " "))"))
    }

    /// The lines `event` of `component` makes, at `now`.
    mutating func lines(
        for event: ComponentEvent, of component: ComponentName,
        at now: ContinuousClock.Instant
    ) -> [BootLogLine] {
        let name = component.rawValue
        switch event {
        case .pending, .converging, .stage:
            return []
        case .blocked(let by, _):
            return [line(.warn, "\(name): waiting for \(by.rawValue), which failed")]
        case .progress(let text):
            return [line(.info, "\(name): \(text)")]
        case .downloadProgress(let progress):
            guard paced(progress, of: component, at: now) else { return [] }
            return [line(.info, "\(name): \(progress.line)", replaces: component)]
        case .download(.started), .download(.failed):
            lastProgress[component] = nil
            return []
        case .download(.finished(let what, _, let bytes, let notModified, let duration)):
            lastProgress[component] = nil
            let how =
                notModified
                ? "is current (304 Not Modified)"
                : "downloaded (\(ComponentProgress.megabytes(bytes)) in \(duration.wholeSecondsRoundedUp) s)"
            return [line(.info, "\(name): \(what) \(how)")]
        case .waiting(let reason, let retryIn, let attempt):
            return [line(.warn, "\(name): \(reason); trying again in \(retryIn.wholeSecondsRoundedUp) s (attempt \(attempt))")]
        case .started(let unit):
            return [line(.info, "\(name): starting \(unit)")]
        case .healthy(let first):
            return [line(.info, first ? "\(name) is ready" : "\(name) is healthy again")]
        case .unhealthy(let reason, let failures, let threshold):
            return [line(.warn, "\(name): probe failed (\(failures) of \(threshold)): \(reason)")]
        case .restarting(let reason, let after, let restart, let budget):
            return [line(.warn, "\(name): \(reason); restarting in \(after.wholeSecondsRoundedUp) s (restart \(restart) of \(budget) allowed)")]
        case .restarted(let bySystemd, let count):
            return bySystemd ? [line(.warn, "\(name): systemd restarted it \(count) time(s)")] : []
        case .failed(let lastError, _, let retryIn):
            return [line(.error, "\(name) failed: \(lastError); trying again in \(retryIn.wholeSecondsRoundedUp) s")]
        }
    }

    /// A line when the workspace's phase (the board's) has changed.
    mutating func lines(forWorkspace status: WorkspaceStatus) -> [BootLogLine] {
        guard status.phase != phase, status.phase != .stopping else { return [] }
        phase = status.phase
        switch status.phase {
        case .ready:
            let seconds = Duration.milliseconds(status.readyAfterMilliseconds ?? 0).wholeSecondsRoundedUp
            let ready = status.components.filter { $0.state == .ready }.map(\.name.rawValue)
            return [line(.info, "workspace ready after \(seconds) s: \(ready.joined(separator: " "))")]
        case .degraded:
            return [line(.warn, "workspace \(status.summary)")]
        case .failed:
            return [line(.error, "workspace \(status.summary)")]
        case .starting, .stopping:
            return []
        }
    }

    /// Whether a progress report makes a line: none before the first byte
    /// (the size is not known yet either); the first once past the first
    /// step, or at once when the size is unknown; then one per new step and
    /// at most one per `pace.interval`, or per `pace.intervalWithoutTotal`
    /// while the size is unknown.
    private mutating func paced(
        _ progress: ComponentProgress, of component: ComponentName,
        at now: ContinuousClock.Instant
    ) -> Bool {
        guard progress.bytes > 0 else { return false }
        let percent = progress.fraction.map { Int($0 * 100) }
        let step = max(1, pace.percentStep)
        if let last = lastProgress[component] {
            let elapsed = last.at.duration(to: now)
            switch (percent, last.percent) {
            case let (percent?, before?):
                guard elapsed >= pace.interval, percent / step > before / step else { return false }
            case (let percent?, nil):  // the size became known
                guard elapsed >= pace.interval, percent >= step else { return false }
            case (nil, _):
                guard elapsed >= pace.intervalWithoutTotal else { return false }
            }
        } else if let percent, percent < step {
            return false
        }
        lastProgress[component] = (now, percent)
        return true
    }

    /// A line as it may leave the VM: no secrets, no control characters
    /// (Coder stores lines in PostgreSQL, which refuses NUL), at most
    /// `maxLineBytes` of UTF-8. Redacted before it is cut, so no secret is
    /// ever cut in half and half sent.
    func line(_ level: BootLogLine.Level, _ text: String, replaces: ComponentName? = nil) -> BootLogLine {
        BootLogLine(level, clean(text), replaces: replaces)
    }

    func clean(_ text: String) -> String {
        let redacted = redaction.apply(text)
        let printable = String(
            redacted.unicodeScalars.map { scalar in
                scalar.value < 0x20 || (0x7F..<0xA0).contains(scalar.value) ? " " : Character(scalar)
            })
        guard printable.utf8.count > maxLineBytes else { return printable }
        let ellipsis = "…"
        var cut = ""
        var bytes = 0
        for character in printable {
            let size = character.utf8.count
            guard bytes + size + ellipsis.utf8.count <= maxLineBytes else { break }
            cut.append(character)
            bytes += size
        }
        return cut + ellipsis
    }
}
