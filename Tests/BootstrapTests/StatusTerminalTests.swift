import Foundation
import WorkspaceSpec
import XCTest

@testable import Bootstrap

/// `status --wait` on a terminal, as a person watching a VM come up sees
/// it: the built binary on a pseudo-terminal, a status file that changes
/// under it, the bytes it writes.
final class StatusTerminalTests: XCTestCase {
    private let csi = "\u{1B}["

    /// The frames drawn so far: each redraw moves the cursor up over the
    /// previous frame (CSI n A), erases and rewrites every line (CSI 2 K)
    /// and erases what is left below (CSI J).
    private func frames(_ output: String, height: Int) -> [[String]] {
        output.components(separatedBy: "\r\(csi)\(height)A").compactMap { chunk -> [String]? in
            guard chunk.hasPrefix("\(csi)2K") else { return nil }  // the final erase before the report
            let body = chunk.components(separatedBy: "\(csi)J")[0]
            return body.components(separatedBy: "\n").dropLast().map { line in
                XCTAssertTrue(line.hasPrefix("\(csi)2K"), "every line is erased before it is drawn: \(line.debugDescription)")
                return String(line.dropFirst("\(csi)2K".count))
            }
        }
    }

    /// A frame line as a person reads it, with the times that follow the
    /// clock ("12s", "1m02s") shown as "<t>": the test does not race the clock.
    private func clockless(_ line: String) -> String {
        line.withoutColour.replacingOccurrences(of: #" +\d+(?:s|m\d\ds|h\d\dm)\b"#, with: " <t>", options: .regularExpression)
    }

    func testWaitRedrawsEachComponentInPlaceWithADownloadBarUntilReady() throws {
        let file = try StatusFileFixture()
        try file.write(
            file.status([
                component(.ssh, .ready, inStateFor: 58),
                component(.docker, .starting, detail: "waiting for /run/docker.sock"),
                component(.codeServer, .converging, detail: "downloading code-server 4.96.4: 41% of 120 MB", download: (49_200_000, 120_000_000)),
                component(.agent, .pending, detail: "waiting for code-server"),
            ]))
        let run = try StatusCommandRun(["status", "--wait", "--timeout", "300", "--status-file", file.path], terminal: (columns: 120, rows: 24))

        XCTAssertTrue(run.output.wait { $0.contains("49.2/120.0 MB") }, run.output.text.debugDescription)
        let first = try XCTUnwrap(frames(run.output.text, height: 5).first)
        XCTAssertEqual(first.count, 5, "a header and one line per enabled component: \(first)")
        XCTAssertTrue(first[0].hasPrefix("\(csi)33mstarting\(csi)0m  "), "the phase in yellow: \(first[0].debugDescription)")
        XCTAssertEqual(clockless(first[0]), "starting <t>  coder-vm-bootstrap 0.1.0 on Debian GNU/Linux 12 (bookworm)")
        XCTAssertTrue(first[1].hasPrefix("  ssh          \(csi)32mready\(csi)0m    "), "ready in green: \(first[1].debugDescription)")
        XCTAssertEqual(clockless(first[1]), "  ssh          ready <t>")
        XCTAssertEqual(clockless(first[2]), "  docker       starting <t>  waiting for /run/docker.sock")
        XCTAssertEqual(clockless(first[3]), "  code-server  converging <t>  [########------------]   41%  49.2/120.0 MB  3.1 MB/s  code-server 4.96.4")
        for (line, activity) in [(first[2], "waiting"), (first[3], "[####"), (first[4], "waiting")] {
            XCTAssertTrue(line.dropFirst(34).hasPrefix(activity), "columns line up: \(first)")
        }
        XCTAssertEqual(clockless(first[4]), "  agent        pending <t>  waiting for code-server")
        XCTAssertFalse(run.output.text.contains("\(csi)5A"), "nothing to move over before the first frame")

        // The window gets narrower and the download goes on: the next frame
        // is drawn over the first, every line cut to the new width.
        run.resize(columns: 60, rows: 24)
        try file.write(
            file.status(
                [
                    component(.ssh, .ready, inStateFor: 60),
                    component(.docker, .ready, inStateFor: 1),
                    component(.codeServer, .converging, download: (100_000_000, 120_000_000)),
                    component(.agent, .pending),
                ], updatedAfter: 64))
        XCTAssertTrue(run.output.wait { $0.contains("[################----]") }, run.output.text.debugDescription)
        let narrow = try XCTUnwrap(frames(run.output.text, height: 5).last)
        XCTAssertEqual(clockless(narrow[3]), "  code-server  converging <t>  [################----]...")
        for line in narrow { XCTAssertLessThanOrEqual(line.withoutColour.count, 59, "one column spare: \(line.debugDescription)") }
        XCTAssertTrue(narrow[0].withoutColour.hasSuffix("..."), narrow[0])

        try file.write(file.status([ComponentName.ssh, .docker, .codeServer, .agent].map { component($0, .ready) }, updatedAfter: 70))
        XCTAssertEqual(run.exitStatus(), 0, run.output.text.debugDescription)
        // The live frame is erased and the report takes its place.
        let tail = try XCTUnwrap(run.output.text.components(separatedBy: "\r\(csi)5A").last)
        XCTAssertTrue(tail.hasPrefix("\(csi)Jready: ssh docker code-server agent\n"), tail.debugDescription)
        XCTAssertFalse(tail.dropFirst(3).contains("\u{1B}"), "the report has no escape sequences: \(tail.debugDescription)")
    }

    func testTextFromTheStatusFileCannotSendEscapeSequencesToTheTerminal() throws {
        let file = try StatusFileFixture()
        try file.write(
            file.status([
                component(.ssh, .ready),
                component(.docker, .starting, detail: "\u{1B}]0;owned\u{07}\u{1B}[2Jwaiting\u{9B}31m"),
            ]))
        let run = try StatusCommandRun(["status", "--wait", "--status-file", file.path], terminal: (columns: 100, rows: 24), environment: ["NO_COLOR": "1"])
        XCTAssertTrue(run.output.wait { $0.contains("waiting") }, run.output.text.debugDescription)
        let frame = try XCTUnwrap(frames(run.output.text, height: 3).first)
        XCTAssertEqual(clockless(frame[2]), "  docker       starting <t>  ?]0;owned??[2Jwaiting?31m")
        XCTAssertEqual(frame[1].withoutColour, frame[1], "NO_COLOR: no colour")
        try file.write(file.status([component(.ssh, .ready), component(.docker, .ready)]))
        XCTAssertEqual(run.exitStatus(), 0)
        let escapes = run.output.text.components(separatedBy: "\u{1B}").dropFirst()
        for escape in escapes {
            XCTAssertTrue(["[2K", "[J", "[3A"].contains { escape.hasPrefix($0) }, "only the redraw's own sequences: \(escape.debugDescription)")
        }
        XCTAssertFalse(run.output.text.contains("\u{9B}"))
    }
}
