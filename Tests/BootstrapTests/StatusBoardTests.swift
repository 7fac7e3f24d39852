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

    func testProgressExtendsTheStartTimeoutUntilReady() async throws {
        let socket = try NotifySocket()
        let (board, _) = try board()
        await board.report(.codeServer, "downloading code-server 4.96.4: 10% of 120 MB")
        XCTAssertTrue(socket.received().contains("EXTEND_TIMEOUT_USEC=300000000"), "\(socket.received())")
        for name in ComponentName.allCases { await board.update(name) { $0.state = .ready } }
        XCTAssertTrue(socket.received().contains("READY=1"))
        await board.update(.agent) { $0.state = .unhealthy }
        await board.report(.agent, "restarting")
        XCTAssertFalse(socket.received().contains("EXTEND_TIMEOUT_USEC"), "no extensions after READY=1")
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

/// A datagram socket named by NOTIFY_SOCKET, as systemd provides it, for the
/// duration of one test: the messages the board sends arrive here verbatim.
final class NotifySocket {
    private let fd: Int32
    private let path: String

    init() throws {
        path = NSTemporaryDirectory() + "notify-\(UUID().uuidString.prefix(8))"
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in path.utf8.enumerated() { raw[index] = byte }
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard bound == 0 else { throw POSIXError(.EADDRINUSE) }
        setenv("NOTIFY_SOCKET", path, 1)
    }

    /// Every datagram waiting now, joined (non-blocking).
    func received() -> String {
        var messages: [String] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
            if count <= 0 { break }
            messages.append(String(decoding: buffer[..<count], as: UTF8.self))
        }
        return messages.joined(separator: "\n")
    }

    deinit {
        unsetenv("NOTIFY_SOCKET")
        close(fd)
        unlink(path)
    }
}
