import CSystemd
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Tells the service manager how the daemon is doing (`Type=notify`).
///
/// A thin wrapper over `sd_notify(3)` and `sd_watchdog_enabled(3)`. Each
/// call sends one datagram to `$NOTIFY_SOCKET`; when the variable is unset
/// (not started by systemd, or not `Type=notify`) calls do nothing and
/// return `false`, so the daemon can notify unconditionally.
///
/// Safe to share between tasks: `sd_notify` opens a fresh socket per call,
/// and the only state kept here (the last status line) is behind a mutex.
public final class Notifier: Sendable {
    /// One assignment in a notification datagram, see `sd_notify(3)`.
    public enum State: Sendable, Hashable {
        /// `READY=1`: start-up finished; `systemctl start` returns.
        case ready
        /// `STOPPING=1`: shutdown began.
        case stopping
        /// `STATUS=…`: a one-line, human-readable state shown by
        /// `systemctl status`. Line breaks are replaced by spaces.
        case status(String)
        /// `WATCHDOG=1`: keep-alive ping for `WatchdogSec=`.
        case watchdog
        /// `EXTEND_TIMEOUT_USEC=…`: progress is being made; give the current
        /// start/stop phase this much more time from now.
        case extendTimeout(Duration)
        /// `MAINPID=…`: the main process is another one (after a fork).
        case mainPID(pid_t)

        var assignment: String {
            switch self {
            case .ready: return "READY=1"
            case .stopping: return "STOPPING=1"
            case .status(let text): return "STATUS=" + Notifier.oneLine(text)
            case .watchdog: return "WATCHDOG=1"
            case .extendTimeout(let d): return "EXTEND_TIMEOUT_USEC=\(d.microsecondsRoundedUp)"
            case .mainPID(let pid): return "MAINPID=\(pid)"
            }
        }
    }

    /// The service's `WatchdogSec=`, or nil when no watchdog is armed for
    /// this process. Read once at init from `sd_watchdog_enabled(3)`
    /// (`$WATCHDOG_USEC`, honouring `$WATCHDOG_PID`).
    public let watchdogInterval: Duration?

    /// How often to send `WATCHDOG=1`: half the interval, as
    /// `sd_watchdog_enabled(3)` recommends, so one late ping is survivable.
    public var watchdogPingInterval: Duration? {
        watchdogInterval.map { $0 / 2 }
    }

    /// Whether `$NOTIFY_SOCKET` is set, i.e. notifications go somewhere.
    var isEnabled: Bool {
        getenv("NOTIFY_SOCKET") != nil
    }

    private let deduplicateStatus: Bool
    // Last STATUS= actually delivered; repeats are dropped because progress
    // loops tend to re-send the same line many times per second.
    private let lastStatus = Mutex<String?>(nil)

    /// - Parameter deduplicateStatus: drop a `STATUS=` identical to the last
    ///   one delivered.
    public init(deduplicateStatus: Bool = true) {
        self.deduplicateStatus = deduplicateStatus
        var usec: UInt64 = 0
        // unset_environment = 0: WATCHDOG_PID already stops children from
        // acting on an inherited WATCHDOG_USEC, and keeping the variables
        // lets a second Notifier read them too.
        if sd_watchdog_enabled(0, &usec) > 0, usec > 0 {
            self.watchdogInterval = .microseconds(Int64(clamping: usec))
        } else {
            self.watchdogInterval = nil
        }
    }

    /// Sends the states as one datagram through `sd_notify(3)`.
    ///
    /// - Returns: `true` if a datagram was sent (or everything in it was a
    ///   duplicate status), `false` when `$NOTIFY_SOCKET` is unset.
    /// - Throws: `SystemdError` when the socket exists but sending failed.
    @discardableResult
    public func send(_ states: [State]) throws(SystemdError) -> Bool {
        var states = states
        var newStatus: String?
        if let index = states.lastIndex(where: { if case .status = $0 { true } else { false } }),
            case .status(let text) = states[index]
        {
            let line = Self.oneLine(text)
            if deduplicateStatus, lastStatus.withLock({ $0 == line }) {
                states.removeAll { if case .status = $0 { true } else { false } }
                if states.isEmpty { return isEnabled }
            } else {
                newStatus = line
            }
        }
        if states.isEmpty { return isEnabled }
        let message = states.map(\.assignment).joined(separator: "\n")
        let r = sd_notify(0, message)
        if r < 0 { throw SystemdError(function: "sd_notify", returnValue: r) }
        if r > 0, let newStatus {
            lastStatus.withLock { $0 = newStatus }
        }
        return r > 0
    }

    /// systemd shows STATUS= on one line; a newline would also start a new
    /// assignment in the datagram.
    static func oneLine(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        var pendingSpace = false
        for ch in text {
            if ch.isNewline {
                pendingSpace = true
                continue
            }
            if pendingSpace {
                if !out.isEmpty, out.last != " " { out.append(" ") }
                pendingSpace = false
            }
            out.append(ch)
        }
        return out
    }
}
