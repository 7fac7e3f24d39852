import Foundation
import SystemdSupport
import WorkspaceSpec
import XCTest
@testable import Bootstrap

final class StatusBoardTests: XCTestCase {
    private func board() throws -> (StatusBoard, String) {
        let spec = WorkspaceSpec(workspace: .init(owner: "alice", name: "dev", id: "1"), user: .init(name: "coder"),
                                 coder: .init(accessURL: "https://coder.example.com/", token: "t"))
        let file = NSTemporaryDirectory() + "status-\(UUID().uuidString).json"
        addTeardownBlock { try? FileManager.default.removeItem(atPath: file) }
        let host = HostDetection(OSRelease(fields: ["ID": "debian", "VERSION_ID": "12"]))
        return (StatusBoard(spec: spec, specPath: nil, host: host, notifier: Notifier(), statusFile: file), file)
    }

    func testSummaryTellsWhatIsHappeningThenWhatIsReady() async throws {
        let (board, file) = try board()
        await board.update(.ssh) { $0.state = .ready }
        await board.report(.codeServer, "downloading code-server 4.96.4: 41% of 120 MB")
        let summary = board.snapshot.withLock { $0.summary }
        XCTAssertTrue(summary.contains("code-server downloading code-server 4.96.4: 41% of 120 MB"), summary)
        XCTAssertTrue(summary.hasSuffix("ready: ssh"), summary)
        let written = try JSONDecoder.iso8601.decode(WorkspaceStatus.self, from: Data(contentsOf: URL(fileURLWithPath: file)))
        XCTAssertEqual(written.summary, summary, "the status file follows every change")
    }

    func testAProgressReportArrivingAfterReadyIsDropped() async throws {
        let (board, _) = try board()
        for name in ComponentName.allCases { await board.update(name) { $0.state = .ready } }
        await board.report(.agent, "downloading coder agent: 99% of 40 MB")
        let status = board.snapshot.withLock { $0 }
        XCTAssertNil(status.components.first { $0.name == .agent }?.detail)
        XCTAssertEqual(status.summary, "ready: ssh docker code-server agent")
        XCTAssertTrue(status.isReady)
    }

    func testARequiredFailureFailsTheWorkspaceAndAnOptionalOneDegradesIt() {
        var components = ComponentName.allCases.map { ComponentStatus(name: $0, state: .ready, required: $0 != .docker) }
        components[1].state = .failed
        XCTAssertEqual(WorkspaceStatus.phase(of: components), .degraded)
        components[3].state = .failed
        XCTAssertEqual(WorkspaceStatus.phase(of: components), .failed)
    }
}

extension JSONDecoder {
    static var iso8601: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }
}
