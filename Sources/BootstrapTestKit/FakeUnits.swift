import Bootstrap
import Synchronization
import SystemdSupport

/// Units whose programs a test scripts, in front of the supervisor instead
/// of systemd. Each start (or restart) of a unit runs the next program of
/// its script (the last one repeats). Like systemd with `Restart=always`,
/// a program that exits is started again every `restartDelay`, counted in
/// `NRestarts`; a program that hangs stays active and answers no probe
/// until it is killed.
public final class FakeUnits<C: Clock>: UnitControl, Sendable where C.Duration == Duration {
    public enum Program: Sendable, Equatable {
        /// Runs and answers its probe.
        case healthy
        /// Runs but never answers (SIGSTOP'ed, deadlocked).
        case hangs
        /// Exits at once after every start; systemd keeps restarting it.
        case exitsAtOnce
    }

    /// What happened to one unit, for assertions.
    public struct Record: Sendable, Equatable {
        public var starts = 0
        public var restarts = 0
        public var kills: [Int32] = []
        public var resets = 0
        public var enabled = false
    }

    private struct Unit {
        var script: [Program] = [.healthy]
        var running: Program?
        var startedAt: C.Instant?
        /// NRestarts systemd had counted before the current program started.
        var restartsBefore: UInt32 = 0
        var crashes: UInt32 = 0
        var record = Record()
    }

    private let clock: C
    private let restartDelay: Duration
    private let units = Mutex<[String: Unit]>([:])
    private let failures = Mutex(0)
    public let journal: [String]

    public init(clock: C, restartDelay: Duration = .seconds(1), journal: [String] = ["fake unit: exited with status 3"]) {
        self.clock = clock
        self.restartDelay = restartDelay
        self.journal = journal
    }

    /// What the unit's program does on each start from now on.
    public func script(_ unit: String, _ programs: Program...) {
        units.withLock { $0[unit, default: Unit()].script = programs }
    }

    /// The running program dies once; systemd restarts it at once (NRestarts + 1).
    public func crash(_ unit: String) {
        units.withLock { $0[unit, default: Unit()].crashes += 1 }
    }

    public func record(of unit: String) -> Record { units.withLock { $0[unit]?.record ?? Record() } }

    /// The next `count` calls fail, as systemd's bus does when it is too busy to answer.
    public func failNext(_ count: Int) { failures.withLock { $0 = count } }

    public struct BusTimeout: Error, CustomStringConvertible {
        public var description: String { "org.freedesktop.DBus.Error.Timeout (fake)" }
    }

    private func maybeFail() throws {
        let fail = failures.withLock { count -> Bool in
            guard count > 0 else { return false }
            count -= 1
            return true
        }
        if fail { throw BusTimeout() }
    }

    /// Whether the unit's program answers a probe now.
    public func isServing(_ unit: String) -> Bool {
        units.withLock { $0[unit]?.running == .healthy }
    }

    // MARK: UnitControl

    public func activeState(of unit: String) async throws -> UnitActiveState {
        try maybeFail()
        return units.withLock { $0[unit]?.running == nil ? .inactive : .active }
    }

    public func restartCount(of unit: String) async throws -> UInt32 {
        let now = clock.now
        return units.withLock { units in
            guard let state = units[unit] else { return 0 }
            var count = state.restartsBefore + state.crashes
            if state.running == .exitsAtOnce, let started = state.startedAt {
                count += UInt32(max(0, started.duration(to: now) / restartDelay))
            }
            return count
        }
    }

    public func start(_ unit: String) async throws {
        try maybeFail()
        begin(unit) { $0.starts += 1 }
    }

    public func restart(_ unit: String) async throws {
        try maybeFail()
        begin(unit) { $0.restarts += 1 }
    }

    public func kill(_ unit: String, signal: Int32) async throws {
        units.withLock { $0[unit, default: Unit()].record.kills.append(signal) }
    }

    public func resetFailed(_ unit: String) async throws {
        units.withLock { $0[unit, default: Unit()].record.resets += 1 }
    }

    public func enable(_ unitFiles: [String]) async throws {
        units.withLock { units in for file in unitFiles { units[file, default: Unit()].record.enabled = true } }
    }

    public func journalTail(of unit: String, lines: Int) async -> [String] { Array(journal.suffix(lines)) }

    private func begin(_ unit: String, _ count: (inout Record) -> Void) {
        let now = clock.now
        units.withLock { units in
            var state = units[unit, default: Unit()]
            // NRestarts counts automatic restarts since the unit was last
            // started by hand; a start or restart job resets it to 0.
            state.restartsBefore = 0
            state.crashes = 0
            state.running = state.script.count > 1 ? state.script.removeFirst() : state.script.first
            state.startedAt = now
            count(&state.record)
            units[unit] = state
        }
    }
}
