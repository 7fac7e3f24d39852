import BootstrapTestKit
import Foundation
import XCTest

@testable import Bootstrap

/// A TCP client of the server under test on 127.0.0.1. Every wait is
/// bounded (30 s), so a broken server fails a test instead of hanging it.
final class TestClient {
    private let fd: Int32

    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            let code = errno
            close(fd)
            throw POSIXError(POSIXErrorCode(rawValue: code) ?? .EIO)
        }
        var bound = timeval(tv_sec: 30, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &bound, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { close(fd) }

    /// Whether all of `bytes` went out (false once the server has closed the connection).
    @discardableResult
    func send(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { Foundation.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) } == bytes.count
    }

    func finishSending() { shutdown(fd, Int32(SHUT_WR)) }

    /// Everything the server sends until it closes the connection.
    func readAll() -> String {
        var answer: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count <= 0 { break }
            answer += buffer[..<count]
        }
        return String(decoding: answer, as: UTF8.self)
    }

    /// The server holds the connection open and has sent nothing on it.
    var isOpenAndSilent: Bool {
        var byte: UInt8 = 0
        return recv(fd, &byte, 1, Int32(MSG_PEEK) | Int32(MSG_DONTWAIT)) < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)
    }

    /// Waits until `limit` at most for the server to close the connection
    /// (the end of the stream or a reset, with nothing sent before it);
    /// returns whether it did.
    func waitUntilClosed(before limit: ContinuousClock.Instant) -> Bool {
        var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        let left = ContinuousClock.now.duration(to: limit)
        let milliseconds = max(0, Int32(left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000))
        guard poll(&entry, 1, milliseconds) == 1 else { return false }
        var byte: UInt8 = 0
        let count = recv(fd, &byte, 1, Int32(MSG_PEEK) | Int32(MSG_DONTWAIT))
        return count == 0 || (count < 0 && errno == ECONNRESET)
    }
}

/// How many of `clients` the server closes within `bound` (one bound for all).
func closedCount(_ clients: some Sequence<TestClient>, within bound: Duration) -> Int {
    let limit = ContinuousClock.now + bound
    return clients.filter { $0.waitUntilClosed(before: limit) }.count
}

/// Sends `request` to 127.0.0.1:`port` over a real TCP socket and returns the whole answer.
func exchange(port: Int, _ request: [UInt8], halfClose: Bool = true) throws -> String {
    let client = try TestClient(port: port)
    client.send(request)
    if halfClose { client.finishSending() }
    return client.readAll()
}

final class ReadinessServerTests: XCTestCase {
    private var servers: [(server: ReadinessServer, run: Task<Void, Never>)] = []
    private var server: ReadinessServer { servers[0].server }
    private let probe = Array("GET /readyz HTTP/1.1\r\nHost: 10.0.2.15:13380\r\nUser-Agent: kube-probe/1.30\r\n\r\n".utf8)

    override func setUpWithError() throws {
        _ = try startServer()
    }

    override func tearDown() async throws {
        for (_, run) in servers { run.cancel() }
        for (_, run) in servers { await run.value }
    }

    /// A server on a free port, run as a task that `tearDown` cancels.
    private func startServer(port: Int = 0, deadline: Duration = .seconds(2), connectionLimit: Int = 128) throws -> (ReadinessServer, Task<Void, Never>) {
        let server = try ReadinessServer(port: port, deadline: deadline, connectionLimit: connectionLimit) { path in
            switch path {
            case "/readyz": .init(status: 503, body: "not ready: starting\n")
            case "/status": .init(status: 200, contentType: "application/json", body: "{\"phase\":\"starting\"}")
            default: .init(status: 404, body: "not found\n")
            }
        }
        let run = Task { await server.run() }
        servers.append((server, run))
        return (server, run)
    }

    func testProbeGetsTheRoutersAnswerWithLengthAndClose() throws {
        let answer = try exchange(port: server.port, probe)
        XCTAssertTrue(answer.hasPrefix("HTTP/1.1 503 Service Unavailable\r\n"), answer)
        XCTAssertTrue(answer.contains("Content-Length: 20\r\n"), answer)
        XCTAssertTrue(answer.contains("Connection: close\r\n"), answer)
        XCTAssertTrue(answer.hasSuffix("\r\n\r\nnot ready: starting\n"), answer)
    }

    func testQueryStringIsIgnoredAndHeadHasNoBody() throws {
        let answer = try exchange(port: server.port, Array("HEAD /status?verbose=1 HTTP/1.0\r\n\r\n".utf8))
        XCTAssertTrue(answer.hasPrefix("HTTP/1.1 200 OK\r\n"), answer)
        XCTAssertTrue(answer.contains("Content-Length: 20\r\n"), answer)
        XCTAssertTrue(answer.hasSuffix("\r\n\r\n"), answer)
    }

    func testOtherMethodsAndGarbageAreRefused() throws {
        XCTAssertTrue(try exchange(port: server.port, Array("POST /readyz HTTP/1.1\r\n\r\n".utf8)).hasPrefix("HTTP/1.1 405 "))
        XCTAssertTrue(try exchange(port: server.port, Array("\u{16}\u{03}\u{01} binary TLS hello\r\n\r\n".utf8)).hasPrefix("HTTP/1.1 400 "))
        XCTAssertTrue(try exchange(port: server.port, Array("GET /x HTTP/1.1\r\n\r\n".utf8)).hasPrefix("HTTP/1.1 404 "))
    }

    func testOversizedHeadGets431WithoutReadingItAll() throws {
        let huge = Array("GET /readyz HTTP/1.1\r\nX-Fill: ".utf8) + Array(repeating: UInt8(ascii: "a"), count: 64 * 1024)
        XCTAssertTrue(try exchange(port: server.port, huge, halfClose: false).hasPrefix("HTTP/1.1 431 "))
    }

    func testHeadCutIntoSingleBytesIsAnswered() throws {
        let client = try TestClient(port: server.port)
        for byte in probe { XCTAssertTrue(client.send([byte])) }
        XCTAssertTrue(client.readAll().hasPrefix("HTTP/1.1 503 "))
    }

    func testServerKeepsAnsweringAfterAClientHangsUpEarly() throws {
        XCTAssertEqual(try exchange(port: server.port, Array("GET /rea".utf8)), "")
        XCTAssertTrue(try exchange(port: server.port, probe).hasPrefix("HTTP/1.1 503 "))
    }

    /// The probe is answered while 64 clients that never send sit open: it
    /// was served alongside them, not after them. Had it waited for them it
    /// would have been answered after their deadline, when the server had
    /// already closed them. They are then closed at that deadline.
    func test64IdleConnectionsDoNotDelayAProbe() throws {
        let idle = try (0..<64).map { _ in try TestClient(port: server.port) }
        XCTAssertTrue(try exchange(port: server.port, probe).hasPrefix("HTTP/1.1 503 "))
        XCTAssertEqual(idle.filter(\.isOpenAndSilent).count, 64, "the idle connections' deadline passed before the probe was answered")
        XCTAssertEqual(closedCount(idle, within: .seconds(30)), 64, "idle connections outlived their deadline")
    }

    /// A byte every 200 ms keeps a per-read timeout happy forever; the total
    /// deadline cuts the connection all the same, never before it is due.
    func testSlowlorisClientIsCutAtItsTotalDeadline() throws {
        let client = try TestClient(port: server.port)
        let connected = ContinuousClock.now
        let trickle = Array("GET /readyz HTTP/1.1\r\nX-Slow: ".utf8) + Array(repeating: UInt8(ascii: "a"), count: 60)
        var sent = 0
        var cut = false
        for byte in trickle {
            guard client.send([byte]) else {
                cut = true
                break
            }
            sent += 1
            if client.waitUntilClosed(before: .now + .milliseconds(200)) {
                cut = true
                break
            }
        }
        XCTAssertTrue(cut, "a client sending a byte every 200 ms kept its connection for \(sent) bytes")
        XCTAssertGreaterThanOrEqual(connected.duration(to: .now), server.deadline, "cut before its deadline")
        XCTAssertEqual(client.readAll(), "", "a request cut off is not answered")
    }

    /// With the limit reached, each new connection drops the oldest idle
    /// one: of 12 idle clients and a probe, with room for 8, the 5 oldest
    /// idle ones go, the 7 newest stay open and the probe is answered.
    func testMoreConnectionsThanTheCapDropTheOldestIdleAndStillServeTheProbe() throws {
        let (server, _) = try startServer(deadline: .seconds(120), connectionLimit: 8)
        let idle = try (0..<12).map { _ in try TestClient(port: server.port) }
        XCTAssertTrue(try exchange(port: server.port, probe).hasPrefix("HTTP/1.1 503 "))
        XCTAssertEqual(closedCount(idle[..<5], within: .seconds(30)), 5, "the oldest idle connections were kept")
        XCTAssertEqual(idle[5...].filter(\.isOpenAndSilent).count, 7, "newer idle connections were dropped instead of the oldest")
    }

    /// Cancelling the run closes the connections at once (not at their
    /// deadline) and the listening socket: the port refuses connections and
    /// a new server can listen on it.
    func testCancellingTheRunStopsTheServerAndFreesThePort() async throws {
        let (server, run) = try startServer(deadline: .seconds(120))
        XCTAssertTrue(try exchange(port: server.port, probe).hasPrefix("HTTP/1.1 503 "))
        let idle = try TestClient(port: server.port)
        run.cancel()
        await run.value
        XCTAssertTrue(idle.waitUntilClosed(before: .now + .seconds(30)), "an open connection outlived the run")
        XCTAssertThrowsError(try TestClient(port: server.port)) { XCTAssertEqual(($0 as? POSIXError)?.code, .ECONNREFUSED) }
        let (again, _) = try startServer(port: server.port)
        XCTAssertEqual(again.port, server.port)
        XCTAssertTrue(try exchange(port: again.port, probe).hasPrefix("HTTP/1.1 503 "))
    }
}

final class HTTPRequestHeadTests: XCTestCase {
    func testRequestLineIsParsed() throws {
        XCTAssertEqual(
            try HTTPRequestHead.parse(Array("GET /livez HTTP/1.1\r\nA: b\r\n\r\n".utf8)),
            HTTPRequestHead(method: "GET", path: "/livez"))
        XCTAssertEqual(try HTTPRequestHead.parse(Array("GET /readyz?x HTTP/1.0\n\n".utf8)).path, "/readyz")
    }

    func testIncompleteMalformedAndLargeHeadsAreTold() {
        XCTAssertThrowsError(try HTTPRequestHead.parse(Array("GET / HTTP/1.1\r\n".utf8))) { XCTAssertEqual($0 as? HTTPRequestHead.ParseError, .incomplete) }
        XCTAssertThrowsError(try HTTPRequestHead.parse(Array("GET  / HTTP/1.1\r\n\r\n".utf8))) { XCTAssertEqual($0 as? HTTPRequestHead.ParseError, .malformed) }
        XCTAssertThrowsError(try HTTPRequestHead.parse(Array("GET http://x/ HTTP/1.1\r\n\r\n".utf8))) {
            XCTAssertEqual($0 as? HTTPRequestHead.ParseError, .malformed)
        }
        XCTAssertThrowsError(try HTTPRequestHead.parse(Array("get / HTTP/1.1\r\n\r\n".utf8))) { XCTAssertEqual($0 as? HTTPRequestHead.ParseError, .malformed) }
        XCTAssertThrowsError(try HTTPRequestHead.parse([UInt8](repeating: 65, count: 5000))) { XCTAssertEqual($0 as? HTTPRequestHead.ParseError, .tooLarge) }
    }

    /// Mutations of a valid head (flipped, inserted, deleted and truncated
    /// bytes, from a fixed seed so a failure reproduces) never crash the
    /// parser and never yield a path outside printable ASCII.
    func testMutatedHeadsNeverCrashTheParser() {
        var random = SeededRandom(seed: 0xC0DE)
        let valid = Array("GET /readyz HTTP/1.1\r\nHost: 10.0.2.15:13380\r\nAccept: */*\r\n\r\n".utf8)
        for _ in 0..<200_000 {
            var input = valid
            for _ in 0..<(1 + Int(random.next() % 4)) {
                let at = Int(random.next() % UInt64(input.count + 1))
                switch random.next() % 4 {
                case 0 where at < input.count: input[at] = UInt8(truncatingIfNeeded: random.next())
                case 1: input.insert(UInt8(truncatingIfNeeded: random.next()), at: at)
                case 2 where at < input.count: input.remove(at: at)
                default: input = Array(input.prefix(at))
                }
            }
            if let head = try? HTTPRequestHead.parse(input) {
                XCTAssertTrue(head.path.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7f })
            }
        }
    }
}
