import Synchronization
import WorkspaceSpec

/// What the watchdog proves before each `WATCHDOG=1`: every supervisor said
/// by when it would next be heard from (after a sleep, a probe, a unit call,
/// a converge), and none is overdue. A supervisor stuck in a call that never
/// returns (a wedged sd-bus, a deadlock) stops the pings, and systemd's
/// `WatchdogSec=` restarts the daemon.
public final class Liveness<C: Clock>: Sendable where C.Duration == Duration {
    private let clock: C
    private let deadlines = Mutex<[ComponentName: C.Instant]>([:])
    /// Added to every promise: scheduling is not exact.
    let slack: Duration

    public init(clock: C, slack: Duration = .seconds(30)) {
        self.clock = clock
        self.slack = slack
    }

    /// `component` will be heard from again within `duration`.
    public func promise(_ component: ComponentName, within duration: Duration) {
        let deadline = clock.now.advanced(by: duration + slack)
        deadlines.withLock { $0[component] = deadline }
    }

    /// The component's supervisor has ended (cancelled): nothing to wait for.
    public func release(_ component: ComponentName) {
        deadlines.withLock { $0[component] = nil }
    }

    /// The components whose promise has passed; empty means alive.
    public func overdue() -> [ComponentName] {
        let now = clock.now
        return deadlines.withLock { deadlines in deadlines.filter { $0.value < now }.map(\.key).sorted() }
    }
}
