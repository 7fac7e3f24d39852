import Foundation
import HostSystem
import XCTest

/// The distribution's tools run by root: bounded in time and output, in a
/// clean environment, as the user when asked.
final class HostCommandTests: XCTestCase {
    // As the daemon does: a write to a command that exited first fails with EPIPE, never kills the tests.
    override func setUp() { BrokenPipes.failWrites() }

    func testACommandPastItsDeadlineIsKilledWithEverythingItStarted() async throws {
        let marker = NSTemporaryDirectory() + "child-\(UUID().uuidString).pid"
        defer { try? FileManager.default.removeItem(atPath: marker) }
        // The command starts a child that would outlive it, then hangs.
        let command = HostCommand(["sh", "-c", "sleep 300 & echo $! > \(marker); wait"], deadline: .milliseconds(500))
        do {
            try await command.run()
            XCTFail("it should have timed out")
        } catch {
            guard case .timedOut = error.reason else { return XCTFail("\(error)") }
            XCTAssertTrue(error.description.contains("did not finish within"), error.description)
        }
        let child = Int32(try String(contentsOfFile: marker, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines))!
        // The teardown signals the whole process group; wait for the child to go.
        var gone = false
        for _ in 0..<100 where !gone {
            gone = kill(child, 0) != 0
            if !gone { try await Task.sleep(for: .milliseconds(50)) }
        }
        XCTAssertTrue(gone, "the child the command started was killed too")
    }

    func testOutputIsBoundedToItsTail() async throws {
        let output = try await HostCommand(
            ["sh", "-c", "head -c 5000000 /dev/zero | tr '\\0' a; echo; echo last line"],
            outputLimit: 1024
        ).run()
        XCTAssertLessThanOrEqual(output.utf8.count, 1024)
        XCTAssertTrue(output.hasSuffix("last line\n"), String(output.suffix(40)))
    }

    func testTheEnvironmentIsCleanNotTheDaemons() async throws {
        setenv("NOTIFY_SOCKET", "/run/systemd/notify", 1)
        defer { unsetenv("NOTIFY_SOCKET") }
        let output = try await HostCommand(["env"], environment: ["DEBIAN_FRONTEND": "noninteractive"]).run()
        let names = Set(output.split(separator: "\n").map { String($0.split(separator: "=")[0]) })
        XCTAssertEqual(names, ["PATH", "LC_ALL", "DEBIAN_FRONTEND"], output)
    }

    func testAFailureSaysWhichCommandAndWhatItPrinted() async {
        do {
            try await HostCommand(["sh", "-c", "echo useradd: group coder exists >&2; exit 9"]).run()
            XCTFail("it should fail")
        } catch {
            XCTAssertEqual(error.reason, .exited(9))
            XCTAssertTrue(error.description.contains("useradd: group coder exists"), error.description)
        }
    }

    func testAHeartbeatBeatsWhileTheCommandRuns() async throws {
        let beats = Beats()
        try await HostCommand(["sleep", "1"], heartbeat: .init(every: .milliseconds(200)) { _ in beats.add() }).run()
        XCTAssertGreaterThanOrEqual(beats.count, 2)
    }

    func testItRunsAsTheUserWithItsGroupsWhenAsked() async throws {
        guard getuid() == 0 else { throw XCTSkip("switching users needs root (CI runs as root)") }
        guard let nobody = UserIdentity.lookup("nobody") else { throw XCTSkip("no user nobody here") }
        let id = try await HostCommand(["sh", "-c", "id -u; id -g; id -G"], user: nobody).run()
        XCTAssertEqual(
            id.split(separator: "\n").map(String.init),
            [String(nobody.uid), String(nobody.gid), nobody.groups.map(String.init).joined(separator: " ")])
    }

    /// Switching to the user in a forked child of a threaded process can
    /// deadlock in glibc's setuid; many at once from many threads must not.
    func testManyCommandsAsTheUserAtOnceNeverHang() async throws {
        guard getuid() == 0 else { throw XCTSkip("switching users needs root (CI runs as root)") }
        guard let nobody = UserIdentity.lookup("nobody") else { throw XCTSkip("no user nobody here") }
        try await withThrowingTaskGroup(of: String.self) { group in
            for _ in 0..<40 {
                group.addTask { try await HostCommand(["id", "-u"], user: nobody, deadline: .seconds(30)).run() }
            }
            for try await id in group {
                XCTAssertEqual(id.trimmingCharacters(in: .whitespacesAndNewlines), String(nobody.uid))
            }
        }
    }
}

private final class Beats: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0
    func add() {
        lock.lock()
        value += 1
        lock.unlock()
    }
    var count: Int {
        lock.lock()
        defer { lock.unlock() }
        return value
    }
}
