import CSystemd
import Foundation
import XCTest

@testable import SystemdSupport

#if canImport(Glibc)
import Glibc
#endif

/// UnitManager against a real dbus-daemon that has no systemd on it: the
/// errors are the bus' own, not simulated. (Tests with a real systemd are
/// in SystemdUnitTests.)
final class UnitManagerBusTests: XCTestCase {
    func testErrorNamesMapToWhatTheCallerCanDo() {
        let cases: [(String, BusError.Kind)] = [
            (BusError.Name.noSuchUnit, .noSuchUnit),
            (BusError.Name.unitMasked, .unitUnusable),
            (BusError.Name.jobTypeNotApplicable, .unitUnusable),
            (BusError.Name.accessDenied, .accessDenied),
            (BusError.Name.serviceUnknown, .unavailable),
            (BusError.Name.noReply, .timedOut),
            (BusError.Name.disconnected, .disconnected),
            (BusError.Name.unknownProperty, .unknownProperty),
            ("org.example.Whatever", .other),
        ]
        for (name, kind) in cases {
            XCTAssertEqual(BusError(name: name, message: "m", operation: "op").kind, kind, name)
        }
    }

    func testErrnoFollowsLibsystemdsMapping() {
        // sd_bus_error_set(3) maps well-known D-Bus names to errno.
        XCTAssertEqual(BusError(name: BusError.Name.accessDenied, message: "", operation: "").errno, EACCES)
        XCTAssertEqual(BusError(name: BusError.Name.serviceUnknown, message: "", operation: "").errno, EHOSTUNREACH)
        let fromErrno = BusError(errno: ETIMEDOUT, operation: "StartUnit x.service")
        XCTAssertEqual(fromErrno.name, BusError.Name.timeout)
        XCTAssertEqual(fromErrno.kind, .timedOut)
        XCTAssertEqual(BusError(errno: ECONNREFUSED, operation: "").name, "System.Error.ECONNREFUSED")
        XCTAssertEqual(BusError(errno: ECONNREFUSED, operation: "").kind, .unavailable)
        XCTAssertEqual("\(fromErrno)", "StartUnit x.service: org.freedesktop.DBus.Error.Timeout: Connection timed out")
    }

    func testConnectingWhereNoBusListensReportsTheSocketError() throws {
        let directory = try TemporaryDirectory()
        XCTAssertThrowsError(try UnitManager(address: .messageBus("unix:path=\(directory.path)/nobody"))) { error in
            let error = error as? BusError
            XCTAssertEqual(error?.name, BusError.Name.fileNotFound)
            XCTAssertEqual(error?.errno, ENOENT)
            XCTAssertEqual(error?.kind, .unavailable)
        }
    }

    func testCallsWithoutSystemdOnTheBusFailWithServiceUnknown() async throws {
        let daemon = try MessageBusDaemon()
        let manager = try UnitManager(address: .messageBus(daemon.address))
        do {
            try await manager.start("code-server@coder.service")
            XCTFail("started a unit without systemd")
        } catch let error as BusError {
            XCTAssertEqual(error.name, BusError.Name.serviceUnknown)
            XCTAssertTrue(error.message.contains("org.freedesktop.systemd1"), error.message)
            XCTAssertEqual(error.operation, "StartUnit code-server@coder.service")
            XCTAssertEqual(error.kind, .unavailable)
        }
    }

    func testWaitingForAStateEndsAtTheFirstBusError() async throws {
        let daemon = try MessageBusDaemon()
        let manager = try UnitManager(address: .messageBus(daemon.address))
        do {
            _ = try await manager.waitForActiveState("coder-agent@coder.service", in: [.active], timeout: .seconds(60))
            XCTFail("no error")
        } catch let error as BusError {
            XCTAssertEqual(error.name, BusError.Name.serviceUnknown)
            XCTAssertEqual(error.operation, "LoadUnit coder-agent@coder.service")
        }
    }

    func testInvalidNamesFailBeforeAnyBusCall() async throws {
        let daemon = try MessageBusDaemon()
        let manager = try UnitManager(address: .messageBus(daemon.address))
        do {
            try await manager.stop("code-server@.service")
            XCTFail("no error")
        } catch let error as UnitNameError {
            XCTAssertEqual(error.name, "code-server@.service")
        }
        do {
            _ = try await manager.enable(unitFiles: ["ok.service", "not ok.service"])
            XCTFail("no error")
        } catch let error as UnitNameError {
            XCTAssertEqual(error.name, "not ok.service")
        }
    }

    /// A peer owns org.freedesktop.systemd1 but never answers (a hung
    /// systemd, as seen during heavy boot): the call must give up after the
    /// configured timeout, not sd-bus' 25 s.
    func testUnansweredCallGivesUpAfterTheCallTimeout() async throws {
        let daemon = try MessageBusDaemon()
        let squatter = try daemon.ownName("org.freedesktop.systemd1")
        defer { sd_bus_flush_close_unref(squatter) }
        let manager = try UnitManager(address: .messageBus(daemon.address), callTimeout: .milliseconds(300))
        let clock = ContinuousClock()
        let started = clock.now
        do {
            try await manager.restart("code-server@coder.service")
            XCTFail("answered")
        } catch let error as BusError {
            XCTAssertEqual(error.kind, .timedOut, "\(error)")
            XCTAssertEqual(error.errno, ETIMEDOUT)
        }
        let elapsed = clock.now - started
        XCTAssertGreaterThanOrEqual(elapsed, .milliseconds(300))
        XCTAssertLessThan(elapsed, .seconds(10))
    }
}

/// A private dbus-daemon on a socket in a temporary directory.
final class MessageBusDaemon {
    let directory: TemporaryDirectory
    let process = Process()
    let address: String

    init() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/dbus-daemon") else {
            throw XCTSkip("dbus-daemon is not installed")
        }
        directory = try TemporaryDirectory()
        let config = directory.path + "/bus.conf"
        try """
        <!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
         "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
        <busconfig>
          <type>session</type>
          <listen>unix:path=\(directory.path)/bus</listen>
          <auth>EXTERNAL</auth>
          <policy context="default">
            <allow send_destination="*" eavesdrop="true"/>
            <allow eavesdrop="true"/>
            <allow own="*"/>
          </policy>
        </busconfig>
        """.write(toFile: config, atomically: true, encoding: .utf8)
        let output = Pipe()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/dbus-daemon")
        process.arguments = ["--config-file=\(config)", "--nofork", "--nopidfile", "--print-address"]
        process.standardOutput = output
        process.standardInput = FileHandle.nullDevice
        try process.run()
        // The daemon prints its address once it listens: that line is the
        // readiness signal.
        var line = Data()
        while !line.contains(UInt8(ascii: "\n")) {
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            line.append(chunk)
        }
        address = String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard !address.isEmpty else {
            kill(process.processIdentifier, SIGKILL)
            throw XCTSkip("dbus-daemon did not start")
        }
    }

    deinit {
        // SIGKILL, not terminate(): Foundation's Process passes on the
        // spawning thread's signal mask, and dispatch threads block SIGTERM.
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// A second client that takes `name` and then never reads its socket.
    func ownName(_ name: String) throws -> OpaquePointer {
        var bus: OpaquePointer?
        var r = sd_bus_new(&bus)
        XCTAssertGreaterThanOrEqual(r, 0)
        r = sd_bus_set_address(bus, address)
        if r >= 0 { r = sd_bus_set_bus_client(bus, 1) }
        if r >= 0 { r = sd_bus_start(bus) }
        if r >= 0 { r = sd_bus_request_name(bus, name, 0) }
        guard r >= 0, let bus else { throw BusError(errno: -r, operation: "RequestName \(name)") }
        return bus
    }
}
