import HostSystem
import SystemdSupport

/// What the supervisor needs of systemd, so that a test can stand in a fake
/// unit whose state it scripts (BootstrapTestKit's `FakeUnits`).
public protocol UnitControl: Sendable {
    func activeState(of unit: String) async throws -> UnitActiveState
    /// `NRestarts`: the restarts systemd made by itself (Restart=).
    func restartCount(of unit: String) async throws -> UInt32
    func start(_ unit: String) async throws
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

    public init() throws { manager = try UnitManager() }

    public func activeState(of unit: String) async throws -> UnitActiveState { try await manager.activeState(of: unit) }
    public func restartCount(of unit: String) async throws -> UInt32 { try await manager.restartCount(of: unit) }
    public func start(_ unit: String) async throws { try await manager.start(unit) }
    public func restart(_ unit: String) async throws { try await manager.restart(unit) }
    public func kill(_ unit: String, signal: Int32) async throws { try await manager.killUnit(unit, signal: signal) }
    public func resetFailed(_ unit: String) async throws { try await manager.resetFailed(unit) }
    public func enable(_ unitFiles: [String]) async throws { try await manager.enable(unitFiles: unitFiles) }

    public func journalTail(of unit: String, lines: Int) async -> [String] {
        let output = try? await HostCommand(["journalctl", "--unit", unit, "--lines", String(lines), "--no-pager", "--output", "cat"],
                                            deadline: .seconds(10)).run()
        return output.map { $0.split(separator: "\n").suffix(lines).map(String.init) } ?? []
    }
}
