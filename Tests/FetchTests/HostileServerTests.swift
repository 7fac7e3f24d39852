// The daemon is root and the server is not trusted: redirects it may not
// follow, sizes it may not announce or send, numbers that must not
// overflow, attempts that must end, and how each failure is classified.
import Foundation
import XCTest

@testable import Fetch

final class HostileServerTests: FetchTestCase {
    // MARK: redirects

    func testRedirectFromHttpsToHttpIsRefused() async throws {
        let https = try FaultServer(https: true)
        defer { https.stop() }
        var settings = Self.fastSettings
        settings.extraCABundle = https.caCertificate
        let plain = server.url("/files/a.bin")
        let from = https.url("/redirect?to=\(plain)")

        let error = await fetchError {
            try await Downloader(settings: settings).download(
                DownloadRequest(url: from, destination: path("agent"), headers: ["Coder-Session-Token": "secret"]))
        }

        XCTAssertEqual(error, .redirectRefused(from: from, to: plain))
        XCTAssertTrue(
            error?.description.contains(https.url("/redirect")) == true && error?.description.contains(plain) == true,
            "\(String(describing: error))")
        XCTAssertEqual(error?.isServerFault, false, "final: the redirect will not become safe")
        let plainRequests = try await server.requests().count
        XCTAssertEqual(plainRequests, 0, "the token never went out in clear text")
        let httpsRequests = try await https.requests().count
        XCTAssertEqual(httpsRequests, 1, "not retried")
        XCTAssertEqual(try directoryContents(), [])
    }

    func testRedirectChainBackFromHttpsToHttpIsRefused() async throws {
        let https = try FaultServer(https: true)
        defer { https.stop() }
        var settings = Self.fastSettings
        settings.extraCABundle = https.caCertificate
        let back = server.url("/files/a.bin")
        let middle = https.url("/redirect?to=\(back)")
        let first = server.url("/redirect?to=" + middle.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)

        let error = await fetchError {
            try await Downloader(settings: settings).download(DownloadRequest(url: first, destination: path("agent")))
        }

        XCTAssertEqual(error, .redirectRefused(from: middle, to: back), "http -> https is fine, https -> http is not")
        let paths = try await server.requests().map(\.path)
        XCTAssertEqual(paths.count, 1, "only the first redirect was asked of the plain server: \(paths)")
    }

    func testRedirectFromHttpToHttpsIsFollowed() async throws {
        let https = try FaultServer(https: true)
        defer { https.stop() }
        try https.serve("a.bin", content)
        var settings = Self.fastSettings
        settings.extraCABundle = https.caCertificate

        try await Downloader(settings: settings).download(
            DownloadRequest(url: server.url("/redirect?to=\(https.url("/files/a.bin"))"), destination: path("agent")))

        XCTAssertEqual(try read(path("agent")), content)
    }

    func testRedirectToFileOrFtpIsRefused() async throws {
        for target in ["file:///etc/shadow", "ftp://127.0.0.1:\(server.port)/a.bin", "FILE:///etc/shadow"] {
            let from = server.url("/redirect?to=\(target)")

            let error = await fetchError {
                try await Downloader(settings: Self.fastSettings).download(
                    DownloadRequest(url: from, destination: path("agent")))
            }

            XCTAssertEqual(error, .redirectRefused(from: from, to: target))
            XCTAssertEqual(error?.isServerFault, false)
        }
        let requestCount = try await server.requests().count
        XCTAssertEqual(requestCount, 3, "each refused at once, not retried")
        XCTAssertEqual(try directoryContents(), [])
    }

    func testRedirectWithoutLocationIsNotInstalled() async throws {
        let url = server.url("/redirect?code=300")

        let error = await fetchError {
            try await Downloader(settings: Self.fastSettings).download(DownloadRequest(url: url, destination: path("agent")))
        }

        XCTAssertEqual(error, .httpStatus(300, url: url, attempts: 1), "its HTML body is not the file")
        XCTAssertEqual(try directoryContents(), [])
    }

    // MARK: size cap

    func testEndlessBodyIsCutAtTheSizeCap() async throws {
        let url = server.url("/files/a.bin?endless=1")

        let error = await fetchError {
            try await Downloader(settings: Self.fastSettings).download(
                DownloadRequest(url: url, destination: path("agent"), maxBytes: 1_000_000))
        }

        XCTAssertEqual(error, .tooLarge(url: url, limit: 1_000_000))
        XCTAssertEqual(error?.isServerFault, false, "final: the same URL will send the same")
        let requests = try await server.requests()
        XCTAssertEqual(requests.count, 1, "not retried")
        XCTAssertGreaterThan(requests[0].bodyBytes, 1_000_000, "the server kept sending past the cap")
        XCTAssertEqual(try directoryContents(), [], "the partial file is removed")
    }

    func testAnnouncedLengthAboveTheDefaultCapFailsBeforeTheBody() async throws {
        let url = server.url("/files/a.bin?length=10737418240")  // 10 GiB
        let request = DownloadRequest(url: url, destination: path("agent"))
        XCTAssertEqual(request.maxBytes, 2_147_483_648, "2 GiB by default")

        let error = await fetchError { try await Downloader(settings: Self.fastSettings).download(request) }

        XCTAssertEqual(error, .tooLarge(url: url, limit: 2_147_483_648))
        XCTAssertTrue(error?.description.contains("2147483648") == true, "\(String(describing: error))")
        XCTAssertEqual(try directoryContents(), [], "not a byte kept")
    }

    func testResumedFileIsMeasuredWithItsPartialPrefix() async throws {
        try write(content[..<1000], to: partPath("agent"))
        let url = server.url("/files/a.bin")

        // The 206 body alone (299 000 bytes) is under the cap; the file it completes is not.
        let error = await fetchError {
            try await Downloader(settings: Self.fastSettings).download(
                DownloadRequest(url: url, destination: path("agent"), maxBytes: Int64(content.count) - 1))
        }

        XCTAssertEqual(error, .tooLarge(url: url, limit: Int64(content.count) - 1))
        let ranges = try await server.requests().map(\.range)
        XCTAssertEqual(ranges, ["bytes=1000-"])
        XCTAssertEqual(try directoryContents(), [])
    }

    // MARK: numbers from the server

    func testResumedPartialWithHugeContentLengthFailsWithoutTrapping() async throws {
        try write(content[..<1000], to: partPath("agent"))
        var settings = Self.fastSettings
        settings.retry = .never
        let url = server.url("/files/a.bin?hugelength=1")

        let error = await fetchError {
            try await Downloader(settings: settings).download(DownloadRequest(url: url, destination: path("agent")))
        }

        guard case let .invalidResponse(errorURL, detail, attempts) = error else {
            return XCTFail("expected .invalidResponse, got \(String(describing: error))")
        }
        XCTAssertEqual(errorURL, url)
        XCTAssertTrue(detail.contains("9223372036854775807") && detail.contains("1000"), detail)
        XCTAssertEqual(attempts, 1)
        XCTAssertEqual(error?.isServerFault, true)
        let statuses = try await server.requests().map(\.status)
        XCTAssertEqual(statuses, [206])
        XCTAssertFalse(exists(path("agent")))
    }

    func testServerWithImpossibleRangeAnswersIsAskedForTheWholeFile() async throws {
        try write(content[..<1000], to: partPath("agent"))

        let result = try await Downloader(settings: Self.fastSettings).download(
            DownloadRequest(url: server.url("/files/a.bin?hugelength=1"), destination: path("agent")))

        XCTAssertEqual(try read(path("agent")), content)
        XCTAssertEqual(result.attempts, 2)
        let ranges = try await server.requests().map(\.range)
        XCTAssertEqual(ranges, ["bytes=1000-", nil], "no second range request to a server that botched the first")
    }

    // MARK: deadline and classification

    func testAttemptDeadlineStopsASlowBodyAndTheRetryResumes() async throws {
        var settings = Self.fastSettings
        settings.attemptTimeout = .seconds(1)
        settings.retry.maxAttempts = 2
        // 1000 bytes every 50 ms: well above the low-speed limit, 15 s for the file.
        let url = server.url("/files/a.bin?chunk=1000&delay=50")

        let error = await fetchError {
            try await Downloader(settings: settings).download(DownloadRequest(url: url, destination: path("agent")))
        }

        guard case let .timedOut(_, _, attempts) = error else {
            return XCTFail("expected .timedOut, got \(String(describing: error))")
        }
        XCTAssertEqual(attempts, 2)
        XCTAssertEqual(error?.isServerFault, true)
        let ranges = try await server.requests().map(\.range)
        XCTAssertEqual(ranges.count, 2)
        XCTAssertNil(ranges[0])
        XCTAssertTrue(
            ranges[1]?.hasPrefix("bytes=") == true && ranges[1] != "bytes=0-",
            "the retry resumes: \(String(describing: ranges[1]))")
        XCTAssertGreaterThan(try read(partPath("agent")).count, 0, "kept for the next resume")
        XCTAssertFalse(exists(path("agent")))
    }

    func testDefaultAttemptDeadlineIsHalfAnHour() {
        XCTAssertEqual(DownloadSettings().attemptTimeout, .seconds(1800))
    }

    func testPersistent503IsAServerFault() async throws {
        var settings = Self.fastSettings
        settings.retry.maxAttempts = 2
        let url = server.url("/files/a.bin?fail=503:99")

        let error = await fetchError {
            try await Downloader(settings: settings).download(DownloadRequest(url: url, destination: path("agent")))
        }

        XCTAssertEqual(error, .httpStatus(503, url: url, attempts: 2))
        XCTAssertEqual(error?.isServerFault, true)
        XCTAssertEqual(error?.isLocal, false)
    }

    func testConnectionRefusedIsAServerFault() async throws {
        var settings = Self.fastSettings
        settings.retry.maxAttempts = 2
        let url = "http://127.0.0.1:\(try closedPort())/files/a.bin"

        let error = await fetchError {
            try await Downloader(settings: settings).download(DownloadRequest(url: url, destination: path("agent")))
        }

        guard case let .transfer(_, code, _, attempts) = error else {
            return XCTFail("expected .transfer, got \(String(describing: error))")
        }
        XCTAssertEqual(code, 7, "CURLE_COULDNT_CONNECT")
        XCTAssertEqual(attempts, 2, "retried")
        XCTAssertEqual(error?.isServerFault, true)
    }

    func testEveryErrorIsClassifiedForTheSupervisor() {
        let url = "https://x/y"
        let serverFaults: [FetchError] = [
            .httpStatus(500, url: url, attempts: 1), .httpStatus(503, url: url, attempts: 1),
            .httpStatus(408, url: url, attempts: 1), .httpStatus(429, url: url, attempts: 1),
            .timedOut(url: url, detail: "", attempts: 1),
            .transfer(url: url, curlCode: 6, detail: "", attempts: 1),  // DNS
            .transfer(url: url, curlCode: 7, detail: "", attempts: 1),  // connection refused
            .transfer(url: url, curlCode: 18, detail: "", attempts: 1),  // body cut
            .transfer(url: url, curlCode: 56, detail: "", attempts: 1),  // connection reset
            .transfer(url: url, curlCode: 35, detail: "", attempts: 1),  // TLS handshake
            .transfer(url: url, curlCode: 47, detail: "", attempts: 1),  // redirect loop
            .refused(url: url, reason: "an HTML page"),
            .invalidResponse(url: url, detail: "", attempts: 1),
        ]
        let final: [FetchError] = [
            .httpStatus(404, url: url, attempts: 1), .httpStatus(403, url: url, attempts: 1),
            .httpStatus(401, url: url, attempts: 1), .httpStatus(400, url: url, attempts: 1),
            .transfer(url: url, curlCode: 60, detail: "", attempts: 1),  // untrusted certificate
            .transfer(url: url, curlCode: 1, detail: "", attempts: 1),  // unsupported protocol
            .checksumMismatch(url: url, expected: "a", actual: "b"),
            .tooLarge(url: url, limit: 1), .redirectRefused(from: url, to: "http://x/y"),
            .invalidRequest("bad"), .libcurlUnavailable(reason: "missing"), .libcryptoUnavailable(reason: "missing"),
        ]
        let local: [FetchError] = [.file(operation: "write", path: "/var/lib/x/.agent.part", errno: ENOSPC)]
        for error in serverFaults {
            XCTAssertTrue(error.isServerFault, "\(error)")
            XCTAssertFalse(error.isLocal, "\(error)")
        }
        for error in final + local { XCTAssertFalse(error.isServerFault, "\(error)") }
        for error in final { XCTAssertFalse(error.isLocal, "\(error)") }
        XCTAssertTrue(local[0].isLocal)
        XCTAssertTrue(local[0].description.contains("/var/lib/x is full"), local[0].description)
    }

    // MARK: units

    func testAnnouncedSizesAreCheckedWithoutOverflow() {
        func check(
            _ status: Int, length: String? = nil, range: String? = nil, resumedFrom: Int64 = 0,
            limit: Int64 = 1000
        ) -> Result<AnnouncedSize.Announcement, AnnouncedSize.Problem> {
            AnnouncedSize.check(
                status: status, contentLength: length, contentRange: range,
                resumedFrom: resumedFrom, limit: limit)
        }
        XCTAssertEqual(check(200, length: "1000"), .success(.init(total: 1000, end: 1000)))
        XCTAssertEqual(check(200), .success(.init(total: nil, end: nil)), "no length: the stream is measured")
        XCTAssertEqual(check(200, length: "1001"), .failure(.tooLarge))
        XCTAssertEqual(check(200, length: "99999999999999999999"), .failure(.tooLarge), "beyond 63 bits")
        XCTAssertEqual(
            check(206, length: "500", range: "bytes 500-999/1000", resumedFrom: 500),
            .success(.init(total: 1000, end: 1000)))
        XCTAssertEqual(
            check(206, length: "600", range: "bytes 500-1099/1100", resumedFrom: 500), .failure(.tooLarge),
            "the prefix counts")
        XCTAssertEqual(
            check(206, length: "9223372036854775807", resumedFrom: 500).isInvalid, true,
            "500 + (2^63 - 1) does not trap")
        XCTAssertEqual(
            check(206, range: "bytes 0-9223372036854775807/*", resumedFrom: 0).isInvalid, true,
            "last byte + 1 does not trap")
        XCTAssertEqual(check(206, range: "bytes 400-999/1000", resumedFrom: 500).isInvalid, true, "wrong offset")
        XCTAssertEqual(check(206, length: "10", range: "bytes 500-999/1000", resumedFrom: 500).isInvalid, true)
        XCTAssertEqual(check(206, range: "bytes 500-799/1000", resumedFrom: 500).isInvalid, true, "stops short")
        XCTAssertEqual(check(206, range: "bytes 500-999/*", resumedFrom: 500), .success(.init(total: 1000, end: 1000)))
        XCTAssertEqual(check(206, range: "bytes -5-999/1000", resumedFrom: 500).isInvalid, true)
        XCTAssertEqual(check(200, length: "-1").isInvalid, true)
    }

    func testRedirectPolicyAllowsWebSchemesWithoutDowngrade() {
        XCTAssertNil(RedirectPolicy.refusedTarget(from: "https://a/x", location: "https://b/y"))
        XCTAssertNil(RedirectPolicy.refusedTarget(from: "http://a/x", location: "https://b/y"))
        XCTAssertNil(RedirectPolicy.refusedTarget(from: "http://a/x", location: "http://b/y"))
        XCTAssertNil(RedirectPolicy.refusedTarget(from: "https://a/x", location: "/y?to=http://b"), "relative")
        XCTAssertNil(RedirectPolicy.refusedTarget(from: "https://a/x", location: "//b:8080/y"), "keeps https")
        XCTAssertEqual(RedirectPolicy.refusedTarget(from: "https://a/x", location: " HTTP://b/y"), "HTTP://b/y")
        XCTAssertEqual(
            RedirectPolicy.refusedTarget(from: "http://a/x", location: "file:///etc/shadow"),
            "file:///etc/shadow")
        XCTAssertEqual(RedirectPolicy.refusedTarget(from: "https://a/x", location: "gopher://b"), "gopher://b")
    }

    // MARK: helpers

    /// A loopback port nothing listens on (bound, then closed).
    private func closedPort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0
            }
        }
        guard bound else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EINVAL) }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

extension Result where Failure == AnnouncedSize.Problem {
    fileprivate var isInvalid: Bool {
        if case .failure(.invalid) = self { true } else { false }
    }
}
