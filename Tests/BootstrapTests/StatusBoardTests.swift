import Foundation
import SystemdSupport
import WorkspaceSpec
import XCTest

@testable import Bootstrap

/// Events in, status out: the STATUS line, the status file, READY=1 and
/// EXTEND_TIMEOUT_USEC over a real notify socket.
final class StatusBoardTests: XCTestCase {
    private func board(required: [ComponentName]? = nil) throws -> (StatusBoard, String) {
        var spec = WorkspaceSpec(
            workspace: .init(owner: "alice", name: "dev", id: "1"), user: .init(name: "coder"),
            coder: .init(accessURL: "https://coder.example.com/", token: "t"))
        spec.readiness.required = required
        let file = NSTemporaryDirectory() + "status-\(UUID().uuidString).json"
        addTeardownBlock { try? FileManager.default.removeItem(atPath: file) }
        let host = HostDetection(OSRelease(fields: ["ID": "debian", "VERSION_ID": "12"]))
        return (StatusBoard(spec: spec, specPath: nil, host: host, notifier: Notifier(), statusFile: file, logger: .init(label: "test")), file)
    }

    private func allHealthy(_ board: StatusBoard) {
        for name in ComponentName.allCases { board.record(.healthy(first: true), for: name) }
    }

    func testStatusLineSaysThePhaseOnceThenWhatEachComponentIsDoing() throws {
        let (board, file) = try board()
        board.record(.healthy(first: true), for: .user)
        board.record(.healthy(first: true), for: .ssh)
        board.record(.downloadProgress(.init(what: "code-server 4.96.4", bytes: 49_200_000, totalBytes: 120_000_000, bytesPerSecond: 1)), for: .codeServer)
        board.record(.progress("installing docker.io with apt (40 s)"), for: .docker)
        let summary = board.snapshot.summary
        XCTAssertEqual(
            summary,
            "starting: docker installing docker.io with apt (40 s); code-server downloading code-server 4.96.4: 41% of 120 MB; agent pending; ready: user ssh")
        let written = try StatusEncoding.decode(Array(Data(contentsOf: URL(fileURLWithPath: file))))
        XCTAssertEqual(written.summary, summary, "the status file follows every event")
        XCTAssertEqual(written.components.first { $0.name == .codeServer }?.progress?.bytes, 49_200_000)
    }

    func testComponentsWaitingForTheSameThingShareOneClause() throws {
        let (board, _) = try board()
        board.record(.progress("creating user coder"), for: .user)
        board.record(.pending(waitingFor: [.user]), for: .codeServer)
        board.record(.pending(waitingFor: [.user]), for: .agent)
        XCTAssertTrue(board.snapshot.summary.contains("code-server, agent waiting for user"), board.snapshot.summary)
        XCTAssertFalse(board.snapshot.summary.contains("ssh preparing"), "no line repeated per component")
    }

    func testProgressExtendsTheStartTimeoutUntilReadyThenNoMore() throws {
        let socket = try NotifySocket()
        let (board, _) = try board()
        board.record(.progress("downloading code-server 4.96.4: 10% of 120 MB"), for: .codeServer)
        XCTAssertTrue(socket.received().contains("EXTEND_TIMEOUT_USEC=300000000"), "\(socket.received())")
        allHealthy(board)
        XCTAssertTrue(socket.received().contains("READY=1"))
        board.record(.unhealthy(reason: "no answer", failures: 1, threshold: 3), for: .agent)
        board.record(.progress("restarting"), for: .agent)
        XCTAssertFalse(socket.received().contains("EXTEND_TIMEOUT_USEC"), "no extensions after READY=1")
    }

    func testReadinessIsSentWhenARequiredComponentFailsForGood() throws {
        let socket = try NotifySocket()
        let (board, _) = try board()
        board.record(.healthy(first: true), for: .user)
        board.record(.failed(lastError: "SHA-256 mismatch", journalTail: nil, retryIn: .seconds(300)), for: .codeServer)
        XCTAssertEqual(board.snapshot.phase, .failed)
        XCTAssertFalse(board.snapshot.isReady)
        XCTAssertTrue(socket.received().contains("READY=1"), "the boot must not wait on a component that failed for good")
        XCTAssertTrue(
            board.snapshot.summary.hasPrefix("failed: ") && board.snapshot.summary.contains("code-server failed: SHA-256 mismatch"), board.snapshot.summary)
    }

    func testARequiredComponentBlockedByAFailedNeedFailsTheWorkspace() throws {
        let (board, _) = try board()
        board.record(.failed(lastError: "a group named coder exists", journalTail: nil, retryIn: .seconds(300)), for: .user)
        board.record(.blocked(by: .user, reason: "a group named coder exists"), for: .codeServer)
        XCTAssertEqual(board.snapshot.phase, .failed)
    }

    func testAnOptionalFailureDegradesButStaysReady() throws {
        let (board, _) = try board(required: [.user, .ssh, .docker, .codeServer])
        allHealthy(board)
        board.record(.failed(lastError: "agent keeps exiting", journalTail: ["exit 3"], retryIn: .seconds(300)), for: .agent)
        XCTAssertEqual(board.snapshot.phase, .degraded)
        XCTAssertTrue(board.snapshot.isReady, "/readyz follows the required components only")
    }

    func testRestartsAreCountedFromBothTheDaemonAndSystemd() throws {
        let (board, _) = try board()
        board.record(.restarted(bySystemd: true, count: 2), for: .agent)
        board.record(.restarted(bySystemd: false, count: 1), for: .agent)
        XCTAssertEqual(board.snapshot.components.first { $0.name == .agent }?.restarts, 3)
    }

    func testTheNetworkViewCarriesNoJournalLinesAndNoURLQueries() throws {
        let (board, _) = try board()
        board.record(
            .failed(
                lastError: "GET https://dl.example.com/cs.tar.gz?X-Amz-Signature=abc123 answered 403", journalTail: ["secret log line"],
                retryIn: .seconds(300)), for: .codeServer)
        let local = board.snapshot
        let network = local.networkView
        XCTAssertNotNil(local.components.first { $0.name == .codeServer }?.journalTail, "the local view keeps full detail")
        XCTAssertNil(network.components.first { $0.name == .codeServer }?.journalTail)
        let text = String(decoding: try StatusEncoding.json(network), as: UTF8.self)
        XCTAssertFalse(text.contains("X-Amz-Signature"), text)
        XCTAssertFalse(text.contains("secret log line"))
        XCTAssertTrue(text.contains("https://dl.example.com/cs.tar.gz answered 403"), text)
    }

    func testStoppingSendsStoppingAndWritesTheFinalStatus() throws {
        let socket = try NotifySocket()
        let (board, file) = try board()
        board.stopping()
        XCTAssertTrue(socket.received().contains("STOPPING=1"))
        XCTAssertEqual(try StatusEncoding.decode(Array(Data(contentsOf: URL(fileURLWithPath: file)))).phase, .stopping)
    }
}
