import Foundation
import WorkspaceSpec
import XCTest

@testable import Bootstrap

/// `status --line` (a `coder_agent` metadata block shows its one line) and
/// `status --probe` (KubeVirt's exec readiness probe through qemu-guest-agent).
final class StatusLineAndProbeTests: XCTestCase {
    private func line(_ file: StatusFileFixture) throws -> (status: Int32?, output: String) {
        let run = try StatusCommandRun(["status", "--line", "--status-file", file.path])
        return (run.exitStatus(), run.output.text)
    }

    private func probe(_ file: StatusFileFixture) throws -> (status: Int32?, output: String) {
        let run = try StatusCommandRun(["status", "--probe", "--status-file", file.path])
        let status = run.exitStatus()
        return (status, run.output.text + run.errors.text)
    }

    func testLineSaysWhatIsHappeningInOneShortLineAndExitsZero() throws {
        let file = try StatusFileFixture()
        XCTAssertEqual(try line(file).output, "not running\n")

        try file.write(
            file.status([
                component(.ssh, .ready), component(.docker, .ready),
                component(.codeServer, .converging, detail: "downloading code-server 4.96.4: 41% of 120 MB", download: (49_200_000, 120_000_000)),
            ]))
        XCTAssertEqual(try line(file).output, "starting: code-server downloading 41% of 120.0 MB\n")
        XCTAssertEqual(try line(file).status, 0, "Coder shows a metadata script's non-zero exit as an error")

        try file.write(file.status([component(.ssh, .ready), component(.agent, .failed, required: false, lastError: "exit status 3")]))
        XCTAssertEqual(try line(file).output, "degraded: agent failed: exit status 3\n")
        let waited = try StatusCommandRun(["status", "--wait", "--line", "--status-file", file.path])
        XCTAssertEqual(waited.exitStatus(), 2, "with --wait a script gets the usual exit code")
        XCTAssertEqual(waited.output.text, "degraded: agent failed: exit status 3\n")

        try file.write(file.status([component(.ssh, .ready), component(.agent, .ready)]))
        XCTAssertEqual(try line(file).output, "ready\n")

        try file.write(file.status([component(.ssh, .starting, detail: String(repeating: "waiting for sshd \u{1B}[2J", count: 20))]))
        let long = try line(file).output
        XCTAssertEqual(long.count, 121, "120 characters and the newline")
        XCTAssertTrue(long.hasSuffix("...\n") && !long.contains("\u{1B}"), long.debugDescription)
    }

    func testProbeAnswersLikeReadyzWithItsExitCodeOnly() throws {
        let file = try StatusFileFixture()
        XCTAssertEqual(try probe(file).status, 1, "no status file: not ready")

        try file.write(file.status([component(.ssh, .ready), component(.docker, .starting)]))
        XCTAssertEqual(try probe(file).status, 1, "a required component is still starting")

        // An optional component that failed does not take the VM out of service (as /readyz).
        try file.write(file.status([component(.ssh, .ready), component(.docker, .failed, required: false, lastError: "no docker")]))
        XCTAssertEqual(try probe(file).status, 0)

        try file.write(file.status([component(.ssh, .ready)]))
        let ready = try probe(file)
        XCTAssertEqual(ready.status, 0)
        XCTAssertEqual(ready.output, "", "no output at all")

        // The same file from a daemon that is gone: not ready.
        let gone = Process()
        gone.executableURL = URL(fileURLWithPath: "/bin/true")
        try gone.run()
        gone.waitUntilExit()
        try file.write(file.status([component(.ssh, .ready)], pid: gone.processIdentifier))
        XCTAssertEqual(try probe(file).status, 1)
        XCTAssertEqual(try line(file).output, "not running\n")
    }

    func testProbeRefusesOptionsThatWouldMakeItWaitOrPrint() throws {
        let file = try StatusFileFixture()
        let run = try StatusCommandRun(["status", "--probe", "--wait", "--status-file", file.path])
        XCTAssertEqual(run.exitStatus(), 64, "EX_USAGE")
        XCTAssertTrue(run.errors.text.contains("--probe"), run.errors.text)
    }
}
