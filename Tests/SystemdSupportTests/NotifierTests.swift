import Foundation
import XCTest

@testable import SystemdSupport

#if canImport(Glibc)
import Glibc
#endif

/// sd_notify(3) talks to whatever datagram socket $NOTIFY_SOCKET names, so
/// these tests bind one and read exactly what systemd would receive.
final class NotifierTests: XCTestCase {
    private var directory: TemporaryDirectory!
    private var socket: DatagramSocket!
    private let environment = EnvironmentOverride()

    override func setUpWithError() throws {
        directory = try TemporaryDirectory()
        socket = try DatagramSocket(bindingTo: directory.path + "/notify")
        environment.set("NOTIFY_SOCKET", socket.path)
        environment.set("WATCHDOG_USEC", nil)
        environment.set("WATCHDOG_PID", nil)
    }

    override func tearDown() {
        environment.restore()
        socket = nil
        directory = nil
    }

    private func nextDatagram(file: StaticString = #filePath, line: UInt = #line) throws -> String? {
        try socket.receiveNow().map { String(decoding: $0, as: UTF8.self) }
    }

    func testReadyReachesNotifySocketVerbatim() throws {
        XCTAssertTrue(try Notifier().send([.ready]))
        XCTAssertEqual(try nextDatagram(), "READY=1")
        XCTAssertNil(try nextDatagram())
    }

    func testStatusLineReachesNotifySocketVerbatim() throws {
        XCTAssertTrue(try Notifier().send([.status("downloading code-server 4.96.2: 41%")]))
        XCTAssertEqual(try nextDatagram(), "STATUS=downloading code-server 4.96.2: 41%")
    }

    func testMultiLineStatusArrivesAsOneLine() throws {
        try Notifier().send([.status("code-server failed:\nexit status 1\r\n  see journal\n")])
        XCTAssertEqual(try nextDatagram(), "STATUS=code-server failed: exit status 1   see journal")
    }

    func testReadyAndStatusTravelInOneDatagram() throws {
        try Notifier().send([.ready, .status("ready: ssh, docker, code-server, coder agent")])
        XCTAssertEqual(try nextDatagram(), "READY=1\nSTATUS=ready: ssh, docker, code-server, coder agent")
        XCTAssertNil(try nextDatagram())
    }

    func testWatchdogPingIsSent() throws {
        try Notifier().send([.watchdog])
        XCTAssertEqual(try nextDatagram(), "WATCHDOG=1")
    }

    func testExtendTimeoutIsSentInMicroseconds() throws {
        let notifier = Notifier()
        try notifier.send([.extendTimeout(.seconds(90))])
        try notifier.send([.extendTimeout(.milliseconds(1500)), .status("downloading coder agent")])
        // Sub-microsecond remainders round up, never down.
        try notifier.send([.extendTimeout(.nanoseconds(1))])
        XCTAssertEqual(try nextDatagram(), "EXTEND_TIMEOUT_USEC=90000000")
        XCTAssertEqual(try nextDatagram(), "EXTEND_TIMEOUT_USEC=1500000\nSTATUS=downloading coder agent")
        XCTAssertEqual(try nextDatagram(), "EXTEND_TIMEOUT_USEC=1")
    }

    func testStoppingIsAnnouncedWithItsReason() throws {
        try Notifier().send([.stopping, .status("stopping: SIGTERM")])
        XCTAssertEqual(try nextDatagram(), "STOPPING=1\nSTATUS=stopping: SIGTERM")
    }

    func testMainPIDIsSentAsDecimal() throws {
        try Notifier().send([.mainPID(4242)])
        XCTAssertEqual(try nextDatagram(), "MAINPID=4242")
    }

    func testIdenticalConsecutiveStatusLinesAreSentOnce() throws {
        let notifier = Notifier()
        try notifier.send([.status("downloading code-server: 41%")])
        try notifier.send([.status("downloading code-server: 41%")])
        try notifier.send([.status("downloading code-server: 42%")])
        try notifier.send([.status("downloading code-server: 41%")])
        XCTAssertEqual(
            try socket.receiveAllNow().map { String(decoding: $0, as: UTF8.self) },
            [
                "STATUS=downloading code-server: 41%",
                "STATUS=downloading code-server: 42%",
                "STATUS=downloading code-server: 41%",
            ])
    }

    func testRepeatedStatusIsDroppedButTheRestOfTheDatagramIsSent() throws {
        let notifier = Notifier()
        try notifier.send([.status("installing code-server")])
        try notifier.send([.extendTimeout(.seconds(30)), .status("installing code-server")])
        XCTAssertEqual(
            try socket.receiveAllNow().map { String(decoding: $0, as: UTF8.self) },
            [
                "STATUS=installing code-server",
                "EXTEND_TIMEOUT_USEC=30000000",
            ])
    }

    func testDeduplicationCanBeTurnedOff() throws {
        let notifier = Notifier(deduplicateStatus: false)
        try notifier.send([.status("same")])
        try notifier.send([.status("same")])
        XCTAssertEqual(try socket.receiveAllNow().count, 2)
    }

    func testWithoutNotifySocketNothingFailsAndNothingIsSent() throws {
        environment.set("NOTIFY_SOCKET", nil)
        let notifier = Notifier()
        XCTAssertFalse(notifier.isEnabled)
        XCTAssertFalse(try notifier.send([.ready, .status("ready")]))
        XCTAssertFalse(try notifier.send([.status("x")]))
        XCTAssertFalse(try notifier.send([.watchdog]))
        XCTAssertFalse(try notifier.send([.extendTimeout(.seconds(1))]))
        XCTAssertFalse(try notifier.send([.stopping]))
        XCTAssertNil(try nextDatagram())
    }

    func testStatusSentWithoutSocketIsNotRememberedAsDelivered() throws {
        environment.set("NOTIFY_SOCKET", nil)
        let notifier = Notifier()
        try notifier.send([.status("starting")])
        environment.set("NOTIFY_SOCKET", socket.path)
        try notifier.send([.status("starting")])
        XCTAssertEqual(try nextDatagram(), "STATUS=starting")
    }

    func testVanishedNotifySocketIsReportedWithErrno() throws {
        environment.set("NOTIFY_SOCKET", directory.path + "/gone")
        XCTAssertThrowsError(try Notifier().send([.ready])) { error in
            XCTAssertEqual(error as? SystemdError, SystemdError(function: "sd_notify", errno: ENOENT))
        }
    }

    func testWatchdogIntervalComesFromWatchdogUsecForThisProcess() {
        environment.set("WATCHDOG_USEC", "20000000")
        environment.set("WATCHDOG_PID", String(getpid()))
        let notifier = Notifier()
        XCTAssertEqual(notifier.watchdogInterval, .seconds(20))
        XCTAssertEqual(notifier.watchdogPingInterval, .seconds(10))
    }

    func testWatchdogIntervalWithoutWatchdogPidStillApplies() {
        environment.set("WATCHDOG_USEC", "3000000")
        XCTAssertEqual(Notifier().watchdogInterval, .seconds(3))
    }

    func testWatchdogMeantForAnotherProcessIsIgnored() {
        environment.set("WATCHDOG_USEC", "20000000")
        environment.set("WATCHDOG_PID", String(getppid()))
        XCTAssertNil(Notifier().watchdogInterval)
        XCTAssertNil(Notifier().watchdogPingInterval)
    }

    func testNoWatchdogWithoutWatchdogUsec() {
        XCTAssertNil(Notifier().watchdogInterval)
    }
}
