import Bootstrap

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// What `status --wait` shows while it waits: on a terminal the live frame,
/// redrawn in place; anywhere else a line per change. Nothing with --json or
/// --line, whose output is the one document or line at the end.
enum StatusWaitView {
    case silent
    case terminal(TerminalRedraw, colour: Bool)
    case log(StatusChangeLog)

    /// The view for standard output as it is: a terminal that can move its
    /// cursor (not TERM=dumb) gets the live frame, coloured unless NO_COLOR
    /// is set (https://no-color.org).
    static func forStandardOutput(environment: [String: String]) -> StatusWaitView {
        guard StandardOutput.isTerminal, environment["TERM"] != "dumb" else { return .log(StatusChangeLog()) }
        return .terminal(TerminalRedraw(), colour: (environment["NO_COLOR"] ?? "").isEmpty)
    }

    mutating func show(_ status: WorkspaceStatus?, statusFile: String, now: Date) {
        switch self {
        case .silent:
            return
        case .terminal(var redraw, let colour):
            let size = StandardOutput.windowSize ?? (columns: 80, rows: 24)
            // One column spare: a line that fills the last column makes some
            // terminals wrap at once, and the block would grow by a line.
            let frame = StatusFrame(width: size.columns - 1, colour: colour)
            let lines = frame.lines(status, statusFile: statusFile, now: now).prefix(max(1, size.rows - 1))
            StandardOutput.write(redraw.draw(Array(lines)))
            self = .terminal(redraw, colour: colour)
        case .log(var log):
            let lines = log.lines(status, statusFile: statusFile)
            if !lines.isEmpty { StandardOutput.write(lines.joined(separator: "\n") + "\n") }
            self = .log(log)
        }
    }

    /// Before the final report: the live frame is cleared (the report takes
    /// its place); a log gets its last changes and an empty line.
    mutating func finish(_ status: WorkspaceStatus?, statusFile: String) {
        switch self {
        case .silent:
            return
        case .terminal(var redraw, let colour):
            StandardOutput.write(redraw.erase())
            self = .terminal(redraw, colour: colour)
        case .log:
            // No daemon: the report says "not running", nothing to add.
            guard status != nil else { return }
            show(status, statusFile: statusFile, now: Date())
            StandardOutput.write("\n")
        }
    }
}
