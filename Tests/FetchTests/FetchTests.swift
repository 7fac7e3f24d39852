// Downloader against a real HTTP server that misbehaves on request.
import Foundation
import XCTest

@testable import Fetch

final class FetchTests: FetchTestCase {
    // MARK: scenarios

    func testRetriesAfter503ThenSucceeds() async throws {
        let delays = Recorder<Duration>()
        var settings = Self.fastSettings
        settings.retry.sleep = {
            delays.append($0)
            try await Task.sleep(for: $0)
        }
        let destination = path("code-server")

        let result = try await Downloader(settings: settings).download(
            DownloadRequest(url: server.url("/files/a.bin?fail=503:2"), destination: destination, mode: 0o755))

        XCTAssertEqual(result.outcome, .downloaded)
        XCTAssertEqual(result.attempts, 3)
        XCTAssertEqual(result.httpStatus, 200)
        XCTAssertEqual(try read(destination), content)
        XCTAssertNil(result.sha256, "no checksum expected, none computed")
        XCTAssertEqual(try mode(destination), 0o755)
        let statuses = try await server.requests().map(\.status)
        XCTAssertEqual(statuses, [503, 503, 200])
        XCTAssertEqual(delays.values.count, 2, "one backoff wait before each retry")
    }

    func testResumesCutTransferWithRangeWithoutResendingBytes() async throws {
        let destination = path("agent")

        let result = try await Downloader(settings: Self.fastSettings).download(
            DownloadRequest(url: server.url("/files/a.bin?cut=100000"), destination: destination))

        XCTAssertEqual(try read(destination), content)
        let requests = try await server.requests()
        XCTAssertEqual(requests.map(\.status), [200, 206])
        XCTAssertNil(requests[0].range)
        XCTAssertEqual(requests[1].range, "bytes=100000-")
        XCTAssertEqual(requests[1].ifRange, result.etag, "resume is conditional on the same file version")
        XCTAssertEqual(requests.map(\.bodyBytes).reduce(0, +), content.count, "no byte sent twice")
        XCTAssertEqual(result.bytesTransferred, Int64(content.count))
        XCTAssertEqual(result.attempts, 2)
    }

    func testRestartsFromZeroWhenServerIgnoresRange() async throws {
        let destination = path("agent")

        let result = try await Downloader(settings: Self.fastSettings).download(
            DownloadRequest(
                url: server.url("/files/a.bin?cut=100000&norange=1"), destination: destination,
                expectedSHA256: Digest.hex(.sha256, of: content)))

        XCTAssertEqual(try read(destination), content, "not duplicated, not appended to")
        let requests = try await server.requests()
        XCTAssertEqual(requests.map(\.range), [nil, "bytes=100000-", nil])
        XCTAssertEqual(requests.last?.status, 200)
        XCTAssertEqual(result.attempts, 3)
        XCTAssertFalse(exists(partPath("agent")))
    }

    func testResumesPartialFileLeftByEarlierRun() async throws {
        let destination = path("agent")
        try Data(content[..<1000]).write(to: URL(fileURLWithPath: partPath("agent")))

        try await Downloader(settings: Self.fastSettings).download(
            DownloadRequest(url: server.url("/files/a.bin"), destination: destination))

        XCTAssertEqual(try read(destination), content)
        let ranges = try await server.requests().map(\.range)
        XCTAssertEqual(ranges, ["bytes=1000-"])
    }

    func testStalePartialFileIsDroppedWhenChecksumFails() async throws {
        let destination = path("agent")
        try Data(repeating: 0x55, count: 1000).write(to: URL(fileURLWithPath: partPath("agent")))

        let result = try await Downloader(settings: Self.fastSettings).download(
            DownloadRequest(
                url: server.url("/files/a.bin"), destination: destination,
                expectedSHA256: Digest.hex(.sha256, of: content)))

        XCTAssertEqual(try read(destination), content)
        let ranges = try await server.requests().map(\.range)
        XCTAssertEqual(ranges, ["bytes=1000-", nil], "resumed, then started over once")
        XCTAssertEqual(result.attempts, 2)
    }

    func testOversizedPartialFileRestartsFromZero() async throws {
        let destination = path("agent")
        try Data(repeating: 0x55, count: content.count + 10).write(to: URL(fileURLWithPath: partPath("agent")))

        try await Downloader(settings: Self.fastSettings).download(
            DownloadRequest(url: server.url("/files/a.bin"), destination: destination))

        XCTAssertEqual(try read(destination), content)
        let statuses = try await server.requests().map(\.status)
        XCTAssertEqual(statuses, [416, 200])
    }

    func testWrongSHA256IsRejectedAndOldFileKept() async throws {
        let destination = path("code-server")
        let old = Array("previous version\n".utf8)
        try Data(old).write(to: URL(fileURLWithPath: destination))
        let wrong = String(repeating: "ab", count: 32)

        do {
            try await Downloader(settings: Self.fastSettings).download(
                DownloadRequest(url: server.url("/files/a.bin"), destination: destination, expectedSHA256: wrong))
            XCTFail("a wrong checksum must be rejected")
        } catch let error as FetchError {
            let actual = Digest.hex(.sha256, of: content)
            XCTAssertEqual(error, .checksumMismatch(url: server.url("/files/a.bin"), expected: wrong, actual: actual))
            XCTAssertTrue(
                error.description.contains(wrong) && error.description.contains(actual),
                error.description)
            XCTAssertTrue(error.description.contains("codeServer.sha256"), "says what to fix: \(error)")
            XCTAssertFalse(error.isServerFault, "fetching again gives the same file")
        }
        let requestCount = try await server.requests().count
        XCTAssertEqual(requestCount, 1, "a checksum mismatch is not retried")
        XCTAssertEqual(try read(destination), old, "old file kept byte for byte")
        XCTAssertFalse(exists(partPath("code-server")))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory.path), ["code-server"])
    }

    func testStoredETagGivesNotModifiedWithoutBody() async throws {
        let destination = path("agent")
        let downloader = try Downloader(settings: Self.fastSettings)
        let request = DownloadRequest(url: server.url("/files/a.bin"), destination: destination)
        let first = try await downloader.download(request)
        let inodeBefore = try inode(destination)

        let second = try await downloader.download(request)

        XCTAssertEqual(first.outcome, .downloaded)
        XCTAssertEqual(second.outcome, .notModified)
        XCTAssertEqual(second.httpStatus, 304)
        XCTAssertEqual(second.bytesTransferred, 0)
        XCTAssertEqual(second.etag, first.etag)
        XCTAssertNil(first.sha256, "without an expected checksum no byte is hashed")
        XCTAssertNil(second.sha256, "nor is the installed file read on a 304")
        let requests = try await server.requests()
        XCTAssertNil(requests[0].ifNoneMatch)
        XCTAssertEqual(requests[1].ifNoneMatch, first.etag)
        XCTAssertEqual(requests[1].status, 304)
        XCTAssertEqual(requests[1].bodyBytes, 0)
        XCTAssertEqual(try read(destination), content)
        XCTAssertEqual(try inode(destination), inodeBefore, "file left in place")
        XCTAssertEqual(
            try String(contentsOfFile: path(".agent.etag"), encoding: .utf8),
            (first.etag ?? "") + "\n")
    }

    func testNotModifiedWithAnExpectedChecksumHoldsTheInstalledFileToIt() async throws {
        let destination = path("code-server")
        let downloader = try Downloader(settings: Self.fastSettings)
        let request = DownloadRequest(
            url: server.url("/files/a.bin"), destination: destination,
            expectedSHA256: Digest.hex(.sha256, of: content))
        _ = try await downloader.download(request)

        let current = try await downloader.download(request)
        var damaged = content
        damaged[1000] ^= 0xFF
        try write(damaged, to: destination)
        let repaired = try await downloader.download(request)

        XCTAssertEqual(current.outcome, .notModified)
        XCTAssertEqual(current.sha256, Digest.hex(.sha256, of: content), "the installed file was read and checked")
        XCTAssertEqual(repaired.outcome, .downloaded, "a 304 for a file that fails its checksum is not believed")
        XCTAssertEqual(try read(destination), content)
        let statuses = try await server.requests().map(\.status)
        XCTAssertEqual(statuses, [200, 304, 304, 200])
    }

    func testChangedFileReplacesStoredETag() async throws {
        let destination = path("agent")
        let downloader = try Downloader(settings: Self.fastSettings)
        let request = DownloadRequest(url: server.url("/files/a.bin"), destination: destination)
        let first = try await downloader.download(request)
        let newer = Array(content.reversed())
        try server.serve("a.bin", newer)

        let second = try await downloader.download(request)

        XCTAssertEqual(second.outcome, .downloaded)
        XCTAssertNotEqual(second.etag, first.etag)
        XCTAssertEqual(try read(destination), newer)
        XCTAssertEqual(try String(contentsOfFile: path(".agent.etag"), encoding: .utf8), (second.etag ?? "") + "\n")
        let conditions = try await server.requests().map(\.ifNoneMatch)
        XCTAssertEqual(conditions, [nil, first.etag])
    }

    func testFollowsRedirect() async throws {
        let destination = path("agent")

        let result = try await Downloader(settings: Self.fastSettings).download(
            DownloadRequest(url: server.url("/redirect?to=/files/a.bin"), destination: destination))

        XCTAssertEqual(try read(destination), content)
        XCTAssertEqual(result.httpStatus, 200)
        let statuses = try await server.requests().map(\.status)
        XCTAssertEqual(statuses, [302, 200])
    }

    func testNotFoundFailsAtOnceNamingStatusAndURL() async throws {
        let destination = path("agent")
        let url = server.url("/files/missing.bin")

        do {
            try await Downloader(settings: Self.fastSettings).download(
                DownloadRequest(url: url, destination: destination))
            XCTFail("404 must fail")
        } catch let error as FetchError {
            XCTAssertEqual(error, .httpStatus(404, url: url, attempts: 1))
            XCTAssertFalse(error.isServerFault)
            XCTAssertTrue(error.description.contains("404"), error.description)
            XCTAssertTrue(error.description.contains(url), error.description)
        }
        let requestCount = try await server.requests().count
        XCTAssertEqual(requestCount, 1, "a 404 is not retried")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory.path), [])
    }

    func testSlowServerTimesOut() async throws {
        var settings = Self.fastSettings
        settings.lowSpeedLimit = 1000
        settings.lowSpeedTime = .seconds(1)
        settings.retry.maxAttempts = 2

        do {
            try await Downloader(settings: settings).download(
                DownloadRequest(url: server.url("/files/a.bin?dribble=100"), destination: path("agent")))
            XCTFail("a server below the low-speed limit must time out")
        } catch let error as FetchError {
            guard case let .timedOut(_, _, attempts) = error else {
                return XCTFail("expected .timedOut, got \(error)")
            }
            XCTAssertEqual(attempts, 2, "timeouts are retried")
            XCTAssertTrue(error.isServerFault)
        }
        XCTAssertFalse(exists(path("agent")))
    }

    func testSeveralDownloadsRunConcurrently() async throws {
        let names = ["one", "two", "three"]
        for name in names { try server.serve(name, Array(content[..<(50_000 * name.count)])) }
        let downloader = try Downloader(settings: Self.fastSettings)

        // Each response is held by the server until all three requests arrived.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for name in names {
                let request = DownloadRequest(url: server.url("/files/\(name)?barrier=g:3"), destination: path(name))
                group.addTask { _ = try await downloader.download(request) }
            }
            try await group.waitForAll()
        }

        let maxInFlight = try await server.maxInFlight()
        XCTAssertGreaterThanOrEqual(maxInFlight, 3)
        for name in names {
            XCTAssertEqual(try read(path(name)), Array(content[..<(50_000 * name.count)]))
        }
    }

    func testProgressReportsIncreasingBytesAndTotal() async throws {
        var settings = Self.fastSettings
        settings.progressInterval = .zero
        let reports = Recorder<DownloadProgress>()

        try await Downloader(settings: settings).download(
            DownloadRequest(url: server.url("/files/a.bin?chunk=32768&delay=10"), destination: path("agent")),
            progress: { reports.append($0) })

        let values = reports.values
        XCTAssertGreaterThanOrEqual(Set(values.map(\.bytes)).count, 3, "several distinct reports")
        XCTAssertEqual(values.map(\.bytes), values.map(\.bytes).sorted(), "bytes never go back")
        XCTAssertEqual(values.last?.bytes, Int64(content.count))
        XCTAssertEqual(values.last?.fraction, 1)
        XCTAssertTrue(values.filter { $0.bytes > 0 }.allSatisfy { $0.totalBytes == Int64(content.count) })
    }

    func testProgressTotalCountsResumedPrefix() async throws {
        var settings = Self.fastSettings
        settings.progressInterval = .zero
        let reports = Recorder<DownloadProgress>()

        try await Downloader(settings: settings).download(
            DownloadRequest(url: server.url("/files/a.bin?cut=100000"), destination: path("agent")),
            progress: { reports.append($0) })

        let resumed = reports.values.drop(while: { $0.bytes < 100_000 })
        XCTAssertFalse(resumed.isEmpty)
        XCTAssertTrue(
            resumed.allSatisfy { $0.totalBytes == nil || $0.totalBytes == Int64(content.count) },
            "\(resumed.map(\.totalBytes))")
    }

    func testCancellationStopsTransferAndKeepsPartialFile() async throws {
        let (stream, continuation) = AsyncStream<DownloadProgress>.makeStream()
        var settings = Self.fastSettings
        settings.progressInterval = .zero
        let downloader = try Downloader(settings: settings)
        let request = DownloadRequest(url: server.url("/files/a.bin?chunk=1000&delay=50"), destination: path("agent"))

        let task = Task { try await downloader.download(request, progress: { continuation.yield($0) }) }
        for await report in stream where report.bytes > 0 { break }
        task.cancel()

        do {
            _ = try await task.value
            XCTFail("a cancelled download must throw")
        } catch is CancellationError {}
        XCTAssertFalse(exists(path("agent")))
        XCTAssertTrue(exists(partPath("agent")), "kept for a later resume")
    }

    func testExtraCABundleIsAddedToSystemStore() async throws {
        let extra = "-----BEGIN CERTIFICATE-----\nZXh0cmE=\n-----END CERTIFICATE-----\n"
        try extra.write(toFile: path("extra.pem"), atomically: true, encoding: .utf8)
        var settings = Self.fastSettings
        settings.extraCABundle = path("extra.pem")

        let downloader = try Downloader(settings: settings)
        let combined = try String(contentsOfFile: XCTUnwrap(downloader.caBundle?.path), encoding: .utf8)

        XCTAssertTrue(combined.hasSuffix(extra))
        XCTAssertGreaterThan(combined.count, extra.count, "system CAs come first")
    }

    func testHTTPSWithPrivateCAWorksOnlyWithExtraCABundle() async throws {
        let https = try FaultServer(https: true)
        defer { https.stop() }
        try https.serve("a.bin", content)
        let request = DownloadRequest(url: https.url("/files/a.bin"), destination: path("agent"))

        do {
            try await Downloader(settings: Self.fastSettings).download(request)
            XCTFail("a certificate from an unknown CA must be refused")
        } catch let error as FetchError {
            guard case let .transfer(_, code, _, attempts) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(code, 60, "CURLE_PEER_FAILED_VERIFICATION")
            XCTAssertEqual(attempts, 1, "not retried")
            XCTAssertTrue(error.description.contains("CA bundle"), error.description)
            XCTAssertFalse(error.isServerFault, "an untrusted certificate stays untrusted")
        }

        var settings = Self.fastSettings
        settings.extraCABundle = https.caCertificate
        try await Downloader(settings: settings).download(request)
        XCTAssertEqual(try read(path("agent")), content)
    }

    // MARK: units

    func testBackoffGrowsWithJitterAndIsCapped() {
        let policy = RetryPolicy(initialDelay: .seconds(1), maxDelay: .seconds(5), multiplier: 2, jitter: 0.5)
        XCTAssertEqual(policy.delay(afterFailure: 1, random: 0), .seconds(1))
        XCTAssertEqual(policy.delay(afterFailure: 2, random: 0), .seconds(2))
        XCTAssertEqual(policy.delay(afterFailure: 2, random: 0.5), .milliseconds(1500))
        XCTAssertEqual(policy.delay(afterFailure: 10, random: 0), .seconds(5))
        XCTAssertEqual(policy.delay(afterFailure: 1, retryAfter: .seconds(3), random: 0), .seconds(3))
        XCTAssertEqual(policy.delay(afterFailure: 1, retryAfter: .seconds(60), random: 0), .seconds(5))
    }

    func testHasherFollowsTheWriterAcrossAReset() throws {
        let part = try PartFile(path: path(".big.part"))
        let hasher = try FileHasher(path: part.path, size: 0)
        defer { hasher.stop() }
        let stale = randomBytes(1_500_000)
        let fresh = randomBytes(3_700_000)  // several of the hasher's 1 MiB steps
        func append(_ bytes: [UInt8]) throws {
            for start in stride(from: 0, to: bytes.count, by: 70_000) {
                try bytes[start..<min(start + 70_000, bytes.count)].withUnsafeBytes { try part.append($0) }
                hasher.advance(to: part.size)
            }
        }

        try append(stale)
        hasher.reset()
        try part.truncate()
        try append(fresh)

        XCTAssertEqual(try hasher.sha256(), Digest.hex(.sha256, of: fresh))
    }

    func testDigestsMatchKnownVectors() {
        XCTAssertEqual(
            Digest.hex(.sha256, of: Array("abc".utf8)),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(Digest.hex(.sha1, of: Array("abc".utf8)), "a9993e364706816aba3e25717850c26c9cd0d89d")
    }

    func testErrorMessagesSayWhatToDo() {
        let missing = FetchError.libcurlUnavailable(reason: "libcurl.so.4: cannot open shared object file")
        XCTAssertTrue(missing.description.contains("libcurl.so.4"))
        XCTAssertTrue(missing.description.contains("install libcurl4"))
        let noCrypto = FetchError.libcryptoUnavailable(reason: "libcrypto.so.3: cannot open shared object file")
        XCTAssertTrue(
            noCrypto.description.contains("libcrypto.so.3") && noCrypto.description.contains("install libssl3"),
            noCrypto.description)
        XCTAssertTrue(
            FetchError.httpStatus(503, url: "https://x/y", attempts: 5).description
                .contains("after 5 attempts"))
    }
}
