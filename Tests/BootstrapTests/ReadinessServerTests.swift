import Foundation
import XCTest
@testable import Bootstrap

/// Sends `request` to 127.0.0.1:`port` over a real TCP socket and returns the whole answer.
func exchange(port: Int, _ request: [UInt8], halfClose: Bool = true) throws -> String {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard connected == 0 else { throw POSIXError(.ECONNREFUSED) }
    _ = request.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    if halfClose { shutdown(fd, Int32(SHUT_WR)) }
    var answer: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 4096)
    while true {
        let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if count <= 0 { break }
        answer += buffer[..<count]
    }
    return String(decoding: answer, as: UTF8.self)
}

final class ReadinessServerTests: XCTestCase {
    private var server: ReadinessServer!
    private var serving: Task<Void, Never>?

    override func setUpWithError() throws {
        server = try ReadinessServer(port: 0) { path in
            switch path {
            case "/readyz": .init(status: 503, body: "not ready: starting\n")
            case "/status": .init(status: 200, contentType: "application/json", body: "{\"phase\":\"starting\"}")
            default: .init(status: 404, body: "not found\n")
            }
        }
        serving = Task { [server] in await server!.run() }
    }

    override func tearDown() async throws {
        serving?.cancel()
        await serving?.value
    }

    func testProbeGetsTheRoutersAnswerWithLengthAndClose() throws {
        let answer = try exchange(port: server.port, Array("GET /readyz HTTP/1.1\r\nHost: vm\r\nUser-Agent: kube-probe/1.30\r\n\r\n".utf8))
        XCTAssertTrue(answer.hasPrefix("HTTP/1.1 503 Service Unavailable\r\n"), answer)
        XCTAssertTrue(answer.contains("Content-Length: 20\r\n"), answer)
        XCTAssertTrue(answer.contains("Connection: close\r\n"), answer)
        XCTAssertTrue(answer.hasSuffix("\r\n\r\nnot ready: starting\n"), answer)
    }

    func testQueryStringIsIgnoredAndHeadHasNoBody() throws {
        let answer = try exchange(port: server.port, Array("HEAD /status?verbose=1 HTTP/1.0\r\n\r\n".utf8))
        XCTAssertTrue(answer.hasPrefix("HTTP/1.1 200 OK\r\n"), answer)
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

    func testServerKeepsAnsweringAfterAClientHangsUpEarly() throws {
        XCTAssertEqual(try exchange(port: server.port, Array("GET /rea".utf8)), "")
        XCTAssertTrue(try exchange(port: server.port, Array("GET /readyz HTTP/1.1\r\n\r\n".utf8)).hasPrefix("HTTP/1.1 503 "))
    }
}

final class HTTPRequestHeadTests: XCTestCase {
    func testRequestLineIsParsed() throws {
        XCTAssertEqual(try HTTPRequestHead.parse(Array("GET /livez HTTP/1.1\r\nA: b\r\n\r\n".utf8)),
                       HTTPRequestHead(method: "GET", path: "/livez"))
        XCTAssertEqual(try HTTPRequestHead.parse(Array("GET /readyz?x HTTP/1.0\n\n".utf8)).path, "/readyz")
    }

    func testIncompleteMalformedAndLargeHeadsAreTold() {
        XCTAssertThrowsError(try HTTPRequestHead.parse(Array("GET / HTTP/1.1\r\n".utf8))) { XCTAssertEqual($0 as? HTTPRequestHead.ParseError, .incomplete) }
        XCTAssertThrowsError(try HTTPRequestHead.parse(Array("GET  / HTTP/1.1\r\n\r\n".utf8))) { XCTAssertEqual($0 as? HTTPRequestHead.ParseError, .malformed) }
        XCTAssertThrowsError(try HTTPRequestHead.parse(Array("GET http://x/ HTTP/1.1\r\n\r\n".utf8))) { XCTAssertEqual($0 as? HTTPRequestHead.ParseError, .malformed) }
        XCTAssertThrowsError(try HTTPRequestHead.parse(Array("get / HTTP/1.1\r\n\r\n".utf8))) { XCTAssertEqual($0 as? HTTPRequestHead.ParseError, .malformed) }
        XCTAssertThrowsError(try HTTPRequestHead.parse([UInt8](repeating: 65, count: 5000))) { XCTAssertEqual($0 as? HTTPRequestHead.ParseError, .tooLarge) }
    }

    /// Mutations of a valid head (flipped, inserted, deleted and truncated
    /// bytes, from a fixed seed so a failure reproduces) never crash the
    /// parser and never yield a path outside printable ASCII.
    func testMutatedHeadsNeverCrashTheParser() {
        var random = SplitMix64(seed: 0xC0DE)
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

/// A small seeded generator, so fuzz failures reproduce.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
