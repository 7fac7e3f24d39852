// HTTPClient against real servers: what goes out (method, headers, body),
// what comes back (status, body, Location), and the limits: answer size,
// redirects, timeout, cancellation, trust.
import Foundation
import XCTest

@testable import Fetch

final class HTTPClientTests: XCTestCase {
    var server: EchoServer!
    let settings = DownloadSettings(connectTimeout: .seconds(5), proxy: .direct)

    override func setUp() async throws {
        server = try EchoServer()
    }

    override func tearDown() async throws {
        server.stop()
    }

    func testPatchSendsItsMethodHeadersAndBodyAndGetsTheAnswer() async throws {
        let client = try HTTPClient(settings: settings)
        let body = Array(#"{"logs":[{"output":"downloading code-server 4.96.4: 40%"}]}"#.utf8) + Array(repeating: 0x20, count: 3000)
        let response = try await client.send(
            "PATCH", server.url("/call"),
            headers: [
                "Coder-Session-Token": "secret-token",
                "Content-Type": "application/json",
            ], body: body)
        XCTAssertEqual(response.status, 200)
        let echoed = try JSONDecoder().decode(EchoServer.Call.self, from: Data(response.body))
        XCTAssertEqual(echoed.method, "PATCH")
        XCTAssertEqual(Array(echoed.body.unicodeScalars.map { UInt8($0.value) }), body, "the body goes out byte for byte")
        XCTAssertEqual(echoed.headers["Coder-Session-Token"], "secret-token")
        XCTAssertEqual(echoed.headers["Content-Length"], "\(body.count)")
        XCTAssertNil(echoed.headers["Expect"], "no 100-continue round trip before a body")
        XCTAssertEqual(echoed.path, "/call", "nothing is added to the URL")
    }

    func testAnErrorStatusIsAnAnswerWithItsBody() async throws {
        let response = try await HTTPClient(settings: settings).send("POST", server.url("/call?status=401"), body: Array("{}".utf8))
        XCTAssertEqual(response.status, 401)
        let echoed = try JSONDecoder().decode(EchoServer.Call.self, from: Data(response.body))
        XCTAssertEqual(echoed.method, "POST")
    }

    func testARedirectIsTheAnswerWithItsLocationAndIsNotFollowed() async throws {
        let elsewhere = server.url("/call?from=redirect")
        let response = try await HTTPClient(settings: settings).send(
            "PATCH", server.url("/call?status=307&location=\(elsewhere.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)"),
            headers: ["Coder-Session-Token": "secret-token"], body: [])
        XCTAssertEqual(response.status, 307)
        XCTAssertEqual(response.location, elsewhere)
        let calls = try await server.calls()
        XCTAssertEqual(calls.count, 1, "the token went nowhere else: \(calls.map(\.path))")
    }

    func testARedirectToAnotherSchemeIsRefusedAsTheDownloaderRefusesIt() async throws {
        do {
            _ = try await HTTPClient(settings: settings).send("GET", server.url("/call?status=302&location=ftp://127.0.0.1/x"))
            XCTFail("a redirect to ftp:// must fail the call")
        } catch let error as FetchError {
            guard case .redirectRefused(_, let to) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(to, "ftp://127.0.0.1/x")
        }
    }

    func testAnAnswerLargerThanTheLimitFailsTheCallAnnouncedOrNot() async throws {
        let client = try HTTPClient(settings: settings)
        for query in ["size=100000", "size=100000&chunked=1"] {
            do {
                _ = try await client.send("GET", server.url("/call?\(query)"), maxResponseBytes: 1000)
                XCTFail("\(query): a 100 kB answer must not be taken under a 1 kB limit")
            } catch let error as FetchError {
                XCTAssertEqual(error, .tooLarge(url: server.url("/call?\(query)"), limit: 1000), query)
            }
        }
        let fits = try await client.send("GET", server.url("/call?size=1000"), maxResponseBytes: 1000)
        XCTAssertEqual(fits.body.count, 1000)
    }

    func testAServerThatNeverAnswersTimesOut() async throws {
        do {
            _ = try await HTTPClient(settings: settings).send("POST", server.url("/stall"), body: [1], timeout: .seconds(1))
            XCTFail("the call must time out")
        } catch let error as FetchError {
            guard case .timedOut = error else { return XCTFail("\(error)") }
        }
    }

    func testCancellingTheTaskEndsTheCall() async throws {
        let client = try HTTPClient(settings: settings)
        let url = server.url("/stall")
        let call = Task { try await client.send("POST", url, body: [1], timeout: .seconds(60)) }
        while try await server.calls().isEmpty { try await Task.sleep(for: .milliseconds(20)) }
        call.cancel()
        do {
            _ = try await call.value
            XCTFail("a cancelled call must not return an answer")
        } catch {
            XCTAssertTrue(error is CancellationError, "\(error)")
        }
    }

    func testBadRequestsAreRefusedBeforeAnythingIsSent() async throws {
        let client = try HTTPClient(settings: settings)
        for (method, url, headers) in [
            ("GET", server.url("/call"), ["X-Token": "a\r\nInjected: 1"]),
            ("GET", server.url("/call"), ["Bad:Name": "x"]),
            ("get", server.url("/call"), [:]),
            ("GET", "file:///etc/passwd", [:]),
        ] {
            do {
                _ = try await client.send(method, url, headers: headers)
                XCTFail("\(method) \(url) \(headers) must be refused")
            } catch let error as FetchError {
                guard case .invalidRequest = error else { return XCTFail("\(error)") }
            }
        }
        let calls = try await server.calls()
        XCTAssertTrue(calls.isEmpty, "\(calls.map(\.path))")
    }

    func testAnUnknownCAIsToldApartAndTheExtraBundleMakesTheServerTrusted() async throws {
        let tls = try FaultServer(https: true)
        defer { tls.stop() }
        try tls.serve("a.json", Array("{}".utf8))
        do {
            _ = try await HTTPClient(settings: settings).send("GET", tls.url("/files/a.json"))
            XCTFail("a server signed by a private CA must not be trusted")
        } catch let error as FetchError {
            XCTAssertTrue(error.isUnknownCertificateAuthority, "\(error)")
            XCTAssertFalse(error.isServerFault, "not tried again as if the server were down")
        }
        var trusting = settings
        trusting.extraCABundle = tls.caCertificate
        let response = try await HTTPClient(settings: trusting).send("GET", tls.url("/files/a.json"))
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(response.body, Array("{}".utf8))

        // The same CA trusted, but the certificate names 127.0.0.1, not localhost: untrusted, yet no unknown CA.
        do {
            _ = try await HTTPClient(settings: trusting).send("GET", "https://localhost:\(tls.port)/files/a.json")
            XCTFail("a certificate for another name must not be trusted")
        } catch let error as FetchError {
            XCTAssertFalse(error.isUnknownCertificateAuthority, "\(error)")
        }
    }
}
