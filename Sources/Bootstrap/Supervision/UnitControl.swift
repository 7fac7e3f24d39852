import HostSystem
import SystemdSupport

/// What the supervisor needs of systemd, so that a test can stand in a fake
/// unit whose state it scripts (BootstrapTestKit's `FakeUnits`).
public protocol UnitControl: Sendable {
    func activeState(of unit: String) async throws -> UnitActiveState
    /// `NRestarts`: the restarts systemd made by itself (Restart=).
    func restartCount(of unit: String) async throws -> UInt32
    func start(_ unit: String) async throws
    /// Returns once the unit has been started again (or has failed): a probe
    /// after it never answers for the process that was replaced.
    func restart(_ unit: String) async throws
    /// Signals every process of the unit (a hung one first gets SIGKILL).
    func kill(_ unit: String, signal: Int32) async throws
    /// Clears `failed` and systemd's start rate limit.
    func resetFailed(_ unit: String) async throws
    /// Enabled so they start at boot without the daemon, as `systemctl enable` does.
    func enable(_ unitFiles: [String]) async throws
    /// The unit's last journal lines, to show with a failure.
    func journalTail(of unit: String, lines: Int) async -> [String]
}

/// `UnitControl` on the real systemd, over sd-bus (`UnitManager`).
public struct SystemdUnits: UnitControl {
    let manager: UnitManager

    /// sd-bus calls may take up to 25 s (sd-bus' own default): a
    /// daemon-reload on a busy boot can take that long.
    public init() throws { manager = try UnitManager(callTimeout: .seconds(25)) }

    public func activeState(of unit: String) async throws -> UnitActiveState { try await manager.activeState(of: unit) }
    public func restartCount(of unit: String) async throws -> UInt32 { try await manager.restartCount(of: unit) }
    public func start(_ unit: String) async throws { try await manager.start(unit) }
    public func restart(_ unit: String) async throws {
        let before = (try? await manager.activeEnterTimestamp(of: unit)) ?? 0
        try await manager.restart(unit)
        // RestartUnit only queues a job: wait for the new activation.
        var interval = Duration.milliseconds(20)
        let deadline = ContinuousClock.now + .seconds(120)
        while ContinuousClock.now < deadline {
            let state = try await manager.activeState(of: unit)
            if state == .failed { return }
            if state == .active, try await manager.activeEnterTimestamp(of: unit) != before { return }
            try await Task.sleep(for: interval)
            interval = min(interval * 2, .milliseconds(500))
        }
    }
    public func kill(_ unit: String, signal: Int32) async throws { try await manager.killUnit(unit, signal: signal) }
    public func resetFailed(_ unit: String) async throws { try await manager.resetFailed(unit) }
    public func enable(_ unitFiles: [String]) async throws { try await manager.enable(unitFiles: unitFiles) }

    public func journalTail(of unit: String, lines: Int) async -> [String] {
        let output = try? await HostCommand(
            ["journalctl", "--unit", unit, "--lines", String(lines), "--no-pager", "--output", "cat"],
            deadline: .seconds(10)
        ).run()
        return output.map { $0.split(separator: "\n").suffix(lines).map(String.init) } ?? []
    }
}
