import Foundation
import XCTest

@testable import SystemdSupport

#if canImport(Glibc)
import Glibc
#endif

/// UnitManager against a real systemd (PID 1 of the machine or of a
/// systemd-nspawn container). Skipped elsewhere: faking systemd's D-Bus API
/// would only test the fake.
final class SystemdUnitTests: XCTestCase {
    private var manager: UnitManager!
    private var unit = ""
    private var unitPath = ""

    override func setUp() async throws {
        guard FileManager.default.fileExists(atPath: "/run/systemd/system") else {
            throw XCTSkip(
                "needs systemd as init (/run/systemd/system is absent); Tests/system/test_systemd_support_in_container.py runs it in a booted container")
        }
        guard getuid() == 0 else { throw XCTSkip("needs root to manage system units") }
        manager = try UnitManager()
        unit = "systemd-support-test-\(UInt32.random(in: 0...UInt32.max)).service"
        unitPath = "/run/systemd/system/\(unit)"
        try """
        [Unit]
        Description=SystemdSupport test unit
        [Service]
        ExecStart=/bin/sleep infinity
        Restart=always
        RestartSec=100ms
        [Install]
        WantedBy=multi-user.target
        """.write(toFile: unitPath, atomically: true, encoding: .utf8)
        try await manager.daemonReload()
    }

    override func tearDown() async throws {
        guard let manager else { return }
        _ = try? await manager.stop(unit)
        _ = try? await manager.waitForActiveState(unit, in: [.inactive, .failed], timeout: .seconds(10))
        _ = try? await manager.disable(unitFiles: [unit])
        try? FileManager.default.removeItem(atPath: unitPath)
        try? await manager.daemonReload()
        self.manager = nil
    }

    /// Polls `condition` until it holds or `timeout` passes: for state that
    /// systemd changes asynchronously after a signal.
    private func eventually(timeout: Duration = .seconds(20), _ condition: () async throws -> Bool) async throws -> Bool {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        while clock.now < deadline {
            if try await condition() { return true }
            try await Task.sleep(for: .milliseconds(50))
        }
        return try await condition()
    }

    func testStartedServiceBecomesActiveWithAMainPID() async throws {
        let job = try await manager.start(unit)
        XCTAssertTrue(job.hasPrefix("/org/freedesktop/systemd1/job/"), job)
        let state = try await manager.waitForActiveState(unit, in: [.active, .failed], timeout: .seconds(20))
        XCTAssertEqual(state, .active)
        let status = try await manager.status(of: unit)
        XCTAssertEqual(status.loadState, "loaded")
        XCTAssertEqual(status.subState, "running")
        XCTAssertEqual(status.restartCount, 0)
        XCTAssertGreaterThan(status.mainPID ?? 0, 0)
        XCTAssertEqual(status.result, "success")
    }

    func testKilledServiceIsRestartedAndCounted() async throws {
        try await manager.start(unit)
        _ = try await manager.waitForActiveState(unit, in: [.active], timeout: .seconds(20))
        let firstPID = try await manager.mainPID(of: unit)
        try await manager.killUnit(unit, signal: SIGKILL, whom: .main)
        let restarted = try await eventually {
            let pid = try await manager.mainPID(of: unit)
            return try await manager.restartCount(of: unit) >= 1 && pid != 0 && pid != firstPID
        }
        XCTAssertTrue(restarted)
    }

    func testServiceKilledWithoutRestartFailsWithTheSignalAsExitStatus() async throws {
        let oneShot = "systemd-support-test-\(UInt32.random(in: 0...UInt32.max)).service"
        let path = "/run/systemd/system/\(oneShot)"
        try "[Service]\nExecStart=/bin/sleep infinity\nRestart=no\n".write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        try await manager.daemonReload()
        try await manager.start(oneShot)
        _ = try await manager.waitForActiveState(oneShot, in: [.active], timeout: .seconds(20))
        try await manager.killUnit(oneShot, signal: SIGKILL)
        let state = try await manager.waitForActiveState(oneShot, in: [.failed, .inactive], timeout: .seconds(20))
        XCTAssertEqual(state, .failed)
        let status = try await manager.status(of: oneShot)
        XCTAssertEqual(status.execMainStatus, SIGKILL)
        XCTAssertEqual(status.result, "signal")
        XCTAssertEqual(status.mainPID, 0)
        try await manager.resetFailed(oneShot)
        let afterReset = try await manager.activeState(of: oneShot)
        XCTAssertEqual(afterReset, .inactive)
    }

    func testStopLeavesTheServiceInactive() async throws {
        try await manager.start(unit)
        _ = try await manager.waitForActiveState(unit, in: [.active], timeout: .seconds(20))
        try await manager.stop(unit)
        let state = try await manager.waitForActiveState(unit, in: [.inactive, .failed], timeout: .seconds(20))
        XCTAssertEqual(state, .inactive)
        let subState = try await manager.subState(of: unit)
        XCTAssertEqual(subState, "dead")
    }

    func testRestartReplacesTheMainProcess() async throws {
        try await manager.start(unit)
        _ = try await manager.waitForActiveState(unit, in: [.active], timeout: .seconds(20))
        let first = try await manager.mainPID(of: unit)
        try await manager.restart(unit)
        let replaced = try await eventually {
            let p = try await manager.mainPID(of: unit)
            return p != 0 && p != first
        }
        XCTAssertTrue(replaced)
    }

    func testEnableLinksTheUnitIntoItsTargetAndDisableRemovesIt() async throws {
        let enabled = try await manager.enable(unitFiles: [unit])
        XCTAssertTrue(
            enabled.contains { $0.type == "symlink" && $0.path.hasSuffix("multi-user.target.wants/\(unit)") },
            "\(enabled)")
        let again = try await manager.enable(unitFiles: [unit])
        XCTAssertEqual(again, [], "enabled already: nothing changes, so systemd is not reloaded")
        let disabled = try await manager.disable(unitFiles: [unit])
        XCTAssertTrue(disabled.contains { $0.type == "unlink" }, "\(disabled)")
    }

    func testStartingAMissingUnitFailsWithNoSuchUnit() async throws {
        do {
            try await manager.start("systemd-support-test-missing.service")
            XCTFail("started a missing unit")
        } catch let error as BusError {
            XCTAssertEqual(error.kind, .noSuchUnit, "\(error)")
            XCTAssertEqual(error.name, BusError.Name.noSuchUnit)
        }
        // Reading a missing unit's state is not an error: it is inactive.
        let missingState = try await manager.activeState(of: "systemd-support-test-missing.service")
        XCTAssertEqual(missingState, .inactive)
    }

    func testSystemBusAndPrivateSocketReachTheSameSystemd() async throws {
        for address in [BusAddress.system, .systemdPrivate] {
            let manager = try UnitManager(address: address)
            let state = try await manager.activeState(of: "init.scope")
            XCTAssertEqual(state, .active, "\(address)")
        }
    }

    func testWaitingForAStateThatNeverComesTimesOut() async throws {
        do {
            _ = try await manager.waitForActiveState(unit, in: [.active], timeout: .milliseconds(300))
            XCTFail("inactive unit became active")
        } catch let timeout as UnitWaitTimeout {
            XCTAssertEqual(timeout.lastState, .inactive)
            XCTAssertEqual(timeout.unit, unit)
        }
    }
}
