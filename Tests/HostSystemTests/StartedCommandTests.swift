import Foundation
import HostSystem
import Synchronization
import XCTest

/// A command started before its input is known (the daemon's spare fetch
/// workers at boot): it runs while it waits, gets its input once, and keeps
/// HostCommand's deadline and teardown.
final class StartedCommandTests: XCTestCase {
    private final class Lines: Sendable {
        private let lines = Mutex<[String]>([])
        func append(_ line: String) { lines.withLock { $0.append(line) } }
        var all: [String] { lines.withLock { $0 } }
    }

    /// Polls (bounded) until the command's marker file exists.
    private func appears(_ path: String) async throws -> Bool {
        let deadline = Date().addingTimeInterval(30)
        while !FileManager.default.fileExists(atPath: path), Date() < deadline { try await Task.sleep(for: .milliseconds(10)) }
        return FileManager.default.fileExists(atPath: path)
    }

    func testItRunsBeforeItsInputArrivesAndAnswersTheInputItIsGivenLater() async throws {
        let (ready, said) = AsyncStream<String>.makeStream()
        let started = StartedCommand(
            HostCommand(["sh", "-c", "echo waiting >&2; read request; echo \"answer to $request\""], deadline: .seconds(30)),
            early: { said.yield($0) })
        for await line in ready {
            XCTAssertEqual(line, "waiting", "the process printed this before it had any input")
            break
        }
        XCTAssertTrue(started.take())
        XCTAssertFalse(started.take(), "it is used once")
        let output = Lines()
        try await started.runLines(input: Array("download\n".utf8), line: output.append, errorLine: { _ in })
        XCTAssertEqual(output.all, ["answer to download"])
    }

    func testADismissedCommandReadsEndOfFileAndIsNeverTakenAgain() async throws {
        let marker = NSTemporaryDirectory() + "eof-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: marker) }
        let started = StartedCommand(HostCommand(["sh", "-c", "if read request; then echo got; else touch \(marker); fi"]))
        started.dismiss()
        XCTAssertFalse(started.take())
        let sawTheEnd = try await appears(marker)
        XCTAssertTrue(sawTheEnd, "the program saw its standard input end")
    }

    func testAProgramThatDiedWhileItWaitedIsReportedAndItsInputGoesNowhere() async throws {
        BrokenPipes.failWrites()  // as the daemon does: the write below meets a pipe with no reader
        let marker = NSTemporaryDirectory() + "died-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: marker) }
        let started = StartedCommand(HostCommand(["sh", "-c", "touch \(marker); exec 0<&-; exit 7"]))
        let ran = try await appears(marker)
        XCTAssertTrue(ran && started.take())
        do {
            try await started.runLines(input: Array(repeating: 0x61, count: 1 << 20), line: { _ in }, errorLine: { _ in })
            XCTFail("it exited with 7")
        } catch {
            XCTAssertEqual(error.reason, .exited(7))
        }
    }

    func testTheDeadlineHoldsOnceItIsGivenItsInput() async throws {
        let started = StartedCommand(HostCommand(["sh", "-c", "read request; exec sleep 60"], deadline: .milliseconds(300)))
        XCTAssertTrue(started.take())
        let begin = ContinuousClock.now
        do {
            try await started.runLines(input: Array("x\n".utf8), line: { _ in }, errorLine: { _ in })
            XCTFail("a program that hangs past the deadline fails")
        } catch {
            XCTAssertEqual(error.reason, .timedOut(.milliseconds(300)))
        }
        XCTAssertLessThan(begin.duration(to: .now), .seconds(30), "killed at the deadline, not waited for")
    }

    func testInputGivenLaterStillReachesItAndItsExitEndsTheRunWhetherOrNotTheInputEnded() async throws {
        let started = StartedCommand(HostCommand(["sh", "-c", "read a; echo \"got $a\"; read b; echo \"then $b\""], deadline: .seconds(30)))
        XCTAssertTrue(started.take())
        let (inputs, give) = AsyncStream<[UInt8]>.makeStream()
        give.yield(Array("request\n".utf8))
        let output = Lines()
        try await within(.seconds(30)) {
            try await started.runLines(
                inputs: inputs,
                line: { line in
                    output.append(line)
                    if line == "got request" { give.yield(Array("go\n".utf8)) }  // the stream stays open
                }, errorLine: { _ in })
        }
        XCTAssertEqual(output.all, ["got request", "then go"])
        give.finish()
    }
}
