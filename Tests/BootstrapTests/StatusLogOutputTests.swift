import Foundation
import WorkspaceSpec
import XCTest

@testable import Bootstrap

/// `status --wait` into a log (Coder's startup-script log is a file, not a
/// terminal): plain lines, one per change, never a repeat, no escapes.
final class StatusLogOutputTests: XCTestCase {
    private func download(_ percent: Int64) -> ComponentStatus {
        component(.codeServer, .converging, detail: "downloading code-server 4.96.4: \(percent)% of 120 MB", download: (percent * 1_200_000, 120_000_000))
    }

    func testWaitIntoAPipeWritesOnePlainLinePerChange() throws {
        let file = try StatusFileFixture()
        let reads = StatusFileReads(file)
        try file.write(file.status([component(.ssh, .converging), component(.docker, .pending), download(12), component(.agent, .pending)], updatedAfter: 1))
        let run = try StatusCommandRun(["status", "--wait", "--status-file", file.path])
        XCTAssertTrue(run.output.wait { $0.contains("12% of 120.0 MB") }, run.output.text)

        // Only the download's numbers move, within the same tenth: nothing to log.
        try file.write(file.status([component(.ssh, .converging), component(.docker, .pending), download(14), component(.agent, .pending)], updatedAfter: 2))
        XCTAssertTrue(reads.wait(for: 2), "the command read the file after the change")

        try file.write(file.status([component(.ssh, .ready), component(.docker, .pending), download(55), component(.agent, .pending)], updatedAfter: 5))
        XCTAssertTrue(run.output.wait { $0.contains("55% of") }, run.output.text)
        try file.write(file.status([ComponentName.ssh, .docker, .codeServer, .agent].map { component($0, .ready) }, updatedAfter: 41))
        XCTAssertEqual(run.exitStatus(), 0, run.output.text)

        let output = run.output.text
        XCTAssertFalse(output.contains("\u{1B}"), "no escape sequences in a log: \(output.debugDescription)")
        let log = output.components(separatedBy: "\n\n")[0].components(separatedBy: "\n")
        XCTAssertEqual(
            log,
            [
                "    1s  coder-vm-bootstrap 0.1.0 on Debian GNU/Linux 12 (bookworm): starting",
                "    1s  ssh: converging",
                "    1s  docker: pending",
                "    1s  code-server: converging, downloading code-server 4.96.4: 12% of 120.0 MB at 3.1 MB/s",
                "    1s  agent: pending",
                "    5s  ssh: ready",
                "    5s  code-server: converging, downloading code-server 4.96.4: 55% of 120.0 MB at 3.1 MB/s",
                "   41s  docker: ready",
                "   41s  code-server: ready",
                "   41s  agent: ready",
                "   41s  ready",
            ])
        XCTAssertTrue(output.hasSuffix("logs: journalctl -u coder-vm-bootstrap [COMPONENT=<name>]\n"), "then the report, as `status` prints it")
    }

    func testADumbTerminalGetsTheLogLinesNotRedraws() throws {
        let file = try StatusFileFixture()
        try file.write(file.status([component(.ssh, .failed, lastError: "sshd -t rejected the policy")]))
        let run = try StatusCommandRun(["status", "--wait", "--status-file", file.path], terminal: (columns: 80, rows: 24), environment: ["TERM": "dumb"])
        XCTAssertEqual(run.exitStatus(), 3, "failed")
        XCTAssertFalse(run.output.text.contains("\u{1B}"), run.output.text.debugDescription)
        XCTAssertTrue(run.output.text.hasPrefix(" 1m02s  coder-vm-bootstrap 0.1.0 on Debian GNU/Linux 12 (bookworm): failed\n"), run.output.text)
        XCTAssertTrue(run.output.text.contains("  ssh: failed, sshd -t rejected the policy\n"), run.output.text)
    }

    func testWaitWithoutADaemonSaysNotRunningAtOnce() throws {
        let enabled = "/etc/systemd/system/multi-user.target.wants/coder-vm-bootstrap.service"
        try XCTSkipIf(FileManager.default.fileExists(atPath: enabled), "coder-vm-bootstrap is enabled on this machine, so --wait would wait for it to come")
        let file = try StatusFileFixture()
        let run = try StatusCommandRun(["status", "--wait", "--status-file", file.path])
        XCTAssertEqual(run.exitStatus(), 4)
        XCTAssertEqual(run.output.text, "not running: no status at \(file.path) (coder-vm-bootstrap.service not started, disabled or not installed)\n")
    }

    func testWaitWithJSONPrintsOnlyTheFinalDocument() throws {
        let file = try StatusFileFixture()
        try file.write(file.status([component(.ssh, .converging)]))
        let run = try StatusCommandRun(["status", "--wait", "--json", "--status-file", file.path])
        let reads = StatusFileReads(file)
        XCTAssertTrue(reads.wait(for: 1), "the command is polling")
        try file.write(file.status([component(.ssh, .ready)]))
        XCTAssertEqual(run.exitStatus(), 0)
        let document = try JSONSerialization.jsonObject(with: Data(run.output.text.utf8)) as? [String: Any]
        XCTAssertEqual(document?["phase"] as? String, "ready", run.output.text)
    }
}
