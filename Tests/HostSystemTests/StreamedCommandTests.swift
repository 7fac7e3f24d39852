import Foundation
import HostSystem
import Synchronization
import XCTest

/// A command whose output is read line by line while it runs (the daemon's
/// fetch worker), with the same deadline and teardown as any other.
final class StreamedCommandTests: XCTestCase {
    // As the daemon does: a write to a command that exited first fails with EPIPE, never kills the tests.
    override func setUp() { BrokenPipes.failWrites() }

    private final class Lines: Sendable {
        private let lines = Mutex<[String]>([])
        func append(_ line: String) { lines.withLock { $0.append(line) } }
        var all: [String] { lines.withLock { $0 } }
    }

    func testEachLineArrivesWhileTheCommandRunsAndStandardErrorStaysApart() async throws {
        let marker = NSTemporaryDirectory() + "go-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: marker) }
        // The command waits for the test to have seen its first line.
        let command = HostCommand(
            ["sh", "-c", "echo first; echo oops >&2; while [ ! -e \(marker) ]; do sleep 0.05; done; printf 'second\\nlast'"],
            deadline: .seconds(30))
        let output = Lines(), errors = Lines()
        try await command.runLines(
            line: { line in
                output.append(line)
                if line == "first" { _ = FileManager.default.createFile(atPath: marker, contents: nil) }
            }, errorLine: errors.append)

        XCTAssertEqual(output.all, ["first", "second", "last"])
        XCTAssertEqual(errors.all, ["oops"])
    }

    func testAFailingCommandThrowsWithTheEndOfItsStandardError() async throws {
        let errors = Lines()
        do {
            try await HostCommand(["sh", "-c", "echo progress; echo 'it broke' >&2; exit 3"]).runLines(line: { _ in }, errorLine: errors.append)
            XCTFail("exit status 3 is a failure")
        } catch {
            XCTAssertEqual(error.reason, .exited(3))
            XCTAssertTrue(error.output.contains("it broke") && !error.output.contains("progress"), error.output)
        }
        XCTAssertEqual(errors.all, ["it broke"])
    }

    func testALineLongerThanTheLimitIsCut() async throws {
        let output = Lines()
        try await HostCommand(["sh", "-c", "head -c 100000 /dev/zero | tr '\\0' a; echo; echo next"])
            .runLines(lineLimit: 1000, line: output.append, errorLine: { _ in })
        XCTAssertEqual(output.all, [String(repeating: "a", count: 1000), "next"])
    }

    func testAStreamedCommandPastItsDeadlineIsKilled() async throws {
        do {
            try await HostCommand(["sh", "-c", "echo started; sleep 300"], deadline: .milliseconds(500))
                .runLines(line: { _ in }, errorLine: { _ in })
            XCTFail("it should have timed out")
        } catch {
            guard case .timedOut = error.reason else { return XCTFail("\(error)") }
        }
    }

    func testInputGivenWhileTheCommandRunsReachesItInOrder() async throws {
        let (inputs, give) = AsyncStream<[UInt8]>.makeStream()
        give.yield(Array("request\n".utf8))
        let output = Lines()
        let command = HostCommand(["sh", "-c", "read a; echo \"got $a\"; read b; echo \"then $b\"; read c || echo end"], deadline: .seconds(30))
        try await command.runLines(
            inputs: inputs,
            line: { line in
                output.append(line)
                // The second line goes in only once the first was answered.
                if line == "got request" {
                    give.yield(Array("go\n".utf8))
                    give.finish()
                }
            }, errorLine: { _ in })
        XCTAssertEqual(output.all, ["got request", "then go", "end"], "the stream's end closes its standard input")
    }

    func testACommandThatExitsWhileMoreInputMayComeEndsTheRun() async throws {
        let (inputs, give) = AsyncStream<[UInt8]>.makeStream()
        give.yield(Array("request\n".utf8))  // and never finished
        let output = Lines()
        try await within(.seconds(30)) {
            try await HostCommand(["sh", "-c", "read a; echo \"answered $a\""], deadline: .seconds(60))
                .runLines(inputs: inputs, line: output.append, errorLine: { _ in })
        }
        XCTAssertEqual(output.all, ["answered request"])
        give.finish()
    }
}

/// `work`, failing the test instead of hanging when it takes longer than `limit`.
func within(_ limit: Duration, _ work: @escaping @Sendable () async throws -> Void) async throws {
    try await withThrowingTaskGroup(of: Bool.self) { group in
        group.addTask {
            try await work()
            return true
        }
        group.addTask {
            try await Task.sleep(for: limit)
            return false
        }
        let finished = try await group.next() ?? false
        group.cancelAll()
        XCTAssertTrue(finished, "it ended within \(limit)")
    }
}
