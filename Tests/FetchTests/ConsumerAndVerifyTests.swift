// The two hooks the daemon uses: a consumer that sees the file while it
// downloads (to unpack a tarball on the fly), and a verify hook that may
// refuse the complete file before it replaces the working one.
import Foundation
import XCTest

@testable import Fetch

final class ConsumerAndVerifyTests: FetchTestCase {
    // MARK: consumer

    func testConsumerSeesEveryByteOfAPlainDownload() async throws {
        let consumer = HashingConsumer()

        try await Downloader(settings: Self.fastSettings).download(
            DownloadRequest(url: server.url("/files/a.bin"), destination: path("agent"), consumer: consumer))

        XCTAssertEqual(consumer.events, ["restart", "finish"])
        XCTAssertEqual(consumer.sha256, Digest.hex(.sha256, of: content))
        XCTAssertEqual(consumer.bytesSinceRestart, Int64(content.count))
        XCTAssertEqual(try read(path("agent")), content, "still installed as usual")
    }

    func testConsumerFollowsACutAndResumedDownloadWithoutRestarting() async throws {
        let consumer = HashingConsumer()

        try await Downloader(settings: Self.fastSettings).download(
            DownloadRequest(
                url: server.url("/files/a.bin?cut=100000"), destination: path("agent"),
                consumer: consumer))

        let ranges = try await server.requests().map(\.range)
        XCTAssertEqual(ranges, [nil, "bytes=100000-"])
        XCTAssertEqual(consumer.events, ["restart", "finish"], "one stream across both attempts")
        XCTAssertEqual(consumer.sha256, Digest.hex(.sha256, of: content))
        XCTAssertEqual(consumer.bytesSinceRestart, Int64(content.count), "no byte seen twice")
    }

    func testConsumerRestartsWhenTheServerIgnoresRange() async throws {
        let consumer = HashingConsumer()

        try await Downloader(settings: Self.fastSettings).download(
            DownloadRequest(
                url: server.url("/files/a.bin?cut=100000&norange=1"), destination: path("agent"),
                consumer: consumer))

        XCTAssertEqual(consumer.events, ["restart", "restart", "finish"])
        XCTAssertEqual(consumer.sha256, Digest.hex(.sha256, of: content))
        XCTAssertEqual(consumer.bytesSinceRestart, Int64(content.count))
    }

    func testConsumerIsFedThePartialFileLeftByAnEarlierProcess() async throws {
        try write(content[..<1000], to: partPath("agent"))
        let consumer = HashingConsumer()

        let result = try await Downloader(settings: Self.fastSettings).download(
            DownloadRequest(url: server.url("/files/a.bin"), destination: path("agent"), consumer: consumer))

        XCTAssertEqual(result.bytesTransferred, Int64(content.count - 1000), "the prefix came from disk")
        XCTAssertEqual(consumer.events, ["restart", "finish"])
        XCTAssertEqual(consumer.sha256, Digest.hex(.sha256, of: content))
        XCTAssertEqual(consumer.bytesSinceRestart, Int64(content.count))
    }

    func testConsumerStartsOverWhenAStalePrefixFailsTheChecksum() async throws {
        try write(Array(repeating: 0x55, count: 1000), to: partPath("agent"))
        let consumer = HashingConsumer()

        try await Downloader(settings: Self.fastSettings).download(
            DownloadRequest(
                url: server.url("/files/a.bin"), destination: path("agent"),
                expectedSHA256: Digest.hex(.sha256, of: content), consumer: consumer))

        XCTAssertEqual(consumer.events, ["restart", "restart", "finish"], "finish only for the file that matches")
        XCTAssertEqual(consumer.sha256, Digest.hex(.sha256, of: content))
    }

    func testConsumerRestartsAfterA416ForAnOversizedPartialFile() async throws {
        try write(Array(repeating: 0x55, count: content.count + 10), to: partPath("agent"))
        let consumer = HashingConsumer()

        try await Downloader(settings: Self.fastSettings).download(
            DownloadRequest(url: server.url("/files/a.bin"), destination: path("agent"), consumer: consumer))

        let statuses = try await server.requests().map(\.status)
        XCTAssertEqual(statuses, [416, 200])
        XCTAssertEqual(consumer.events, ["restart", "restart", "finish"], "the stale file was fed, then dropped")
        XCTAssertEqual(consumer.sha256, Digest.hex(.sha256, of: content))
    }

    func testConsumerFinishComesBeforeInstall() async throws {
        let consumer = HashingConsumer()
        let destination = path("agent")
        consumer.onFinish = { XCTAssertFalse(FileManager.default.fileExists(atPath: destination)) }

        try await Downloader(settings: Self.fastSettings).download(
            DownloadRequest(url: server.url("/files/a.bin"), destination: destination, consumer: consumer))

        XCTAssertEqual(consumer.events.last, "finish")
        XCTAssertTrue(exists(destination))
    }

    func testConsumerErrorEndsTheDownloadWithoutRetry() async throws {
        let consumer = HashingConsumer()
        consumer.failAfter = 50_000

        do {
            try await Downloader(settings: Self.fastSettings).download(
                DownloadRequest(
                    url: server.url("/files/a.bin?chunk=16384"), destination: path("agent"),
                    consumer: consumer))
            XCTFail("the consumer's error must end the download")
        } catch let error as HashingConsumer.Refusal {
            XCTAssertEqual(error, HashingConsumer.Refusal(atByte: consumer.bytesSinceRestart))
        }

        let requestCount = try await server.requests().count
        XCTAssertEqual(requestCount, 1)
        XCTAssertFalse(exists(path("agent")))
        XCTAssertFalse(consumer.events.contains("finish"))
    }

    // MARK: verify

    func testVerifySeesTheCompleteFileWithItsModeBeforeItIsInstalled() async throws {
        let destination = path("coder")
        let old = Array("old agent\n".utf8)
        try write(old, to: destination)
        let seen = Recorder<String>()
        let expectedContent = content
        let partPath = partPath("coder")
        let verify: @Sendable (String) async throws -> Void = { part in
            seen.append(part)
            let attributes = try FileManager.default.attributesOfItem(atPath: part)
            XCTAssertEqual(attributes[.posixPermissions] as? Int, 0o755, "final mode already set")
            XCTAssertEqual(Array(try Data(contentsOf: URL(fileURLWithPath: part))), expectedContent)
            XCTAssertEqual(
                Array(try Data(contentsOf: URL(fileURLWithPath: destination))), old,
                "the working file is still in place")
            XCTAssertEqual(part, partPath)
        }

        try await Downloader(settings: Self.fastSettings).download(
            DownloadRequest(
                url: server.url("/files/a.bin"), destination: destination,
                expectedSHA256: Digest.hex(.sha256, of: content), mode: 0o755, verify: verify))

        XCTAssertEqual(seen.values.count, 1)
        XCTAssertEqual(try read(destination), content)
    }

    func testVerifyCanRunTheNewBinaryBeforeItReplacesTheOld() async throws {
        // A stand-in for the agent binary: coreutils' echo, an ELF executable
        // that answers --version (exec fails with ETXTBSY while it is open
        // for writing).
        try server.serve("coder", try read("/bin/echo"))
        let output = Recorder<String>()
        let verify: @Sendable (String) async throws -> Void = { part in
            try await requireELF(part)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: part)
            process.arguments = ["--version"]
            let pipe = Pipe()
            process.standardOutput = pipe
            try process.run()
            process.waitUntilExit()
            output.append(String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self))
        }

        try await Downloader(settings: Self.fastSettings).download(
            DownloadRequest(
                url: server.url("/files/coder"), destination: path("agent"), mode: 0o755,
                verify: verify))

        XCTAssertEqual(output.values.count, 1)
        XCTAssertTrue(output.values.first?.contains("coreutils") == true, "\(output.values)")
    }

    func testHTMLPageServedWithOKIsRefusedAndThePreviousBinaryKept() async throws {
        let destination = path("agent")
        let downloader = try Downloader(settings: Self.fastSettings)
        let first = try await downloader.download(
            DownloadRequest(
                url: server.url("/files/a.bin"),
                destination: destination))
        let etagBefore = try read(path(".agent.etag"))
        let url = server.url("/files/a.bin?html=1")

        let error = await fetchError {
            try await downloader.download(DownloadRequest(url: url, destination: destination, verify: requireELF))
        }

        XCTAssertEqual(error, .refused(url: url, reason: "not an ELF executable"))
        XCTAssertEqual(error?.isServerFault, true, "the server may serve the binary again later")
        XCTAssertEqual(try read(destination), content, "the working binary is untouched")
        XCTAssertEqual(try read(path(".agent.etag")), etagBefore)
        XCTAssertEqual(first.etag.map { Array(($0 + "\n").utf8) }, etagBefore)
        XCTAssertEqual(try directoryContents(), [".agent.etag", "agent"], "the refused file is gone")
    }
}

/// Rejects anything that does not start with the ELF magic.
private let requireELF: @Sendable (String) async throws -> Void = { path in
    let head = try FileHandle(forReadingFrom: URL(fileURLWithPath: path)).read(upToCount: 4) ?? Data()
    guard head == Data([0x7f, 0x45, 0x4c, 0x46]) else { throw NotExecutable() }
}

private struct NotExecutable: Error, CustomStringConvertible {
    var description: String { "not an ELF executable" }
}

/// SHA-256s what it is given since the last restart, and logs the calls.
final class HashingConsumer: DownloadConsumer, @unchecked Sendable {
    struct Refusal: Error, Equatable { let atByte: Int64 }

    private var digest = Digest(.sha256)
    private(set) var events: [String] = []
    private(set) var bytesSinceRestart: Int64 = 0
    private(set) var sha256: String?
    /// Throws Refusal from consume() once this many bytes arrived.
    var failAfter: Int64?
    var onFinish: () -> Void = {}

    func restart() throws {
        events.append("restart")
        digest = Digest(.sha256)
        bytesSinceRestart = 0
    }

    func consume(_ bytes: UnsafeRawBufferPointer) throws {
        digest.update(bytes)
        bytesSinceRestart += Int64(bytes.count)
        if let failAfter, bytesSinceRestart >= failAfter { throw Refusal(atByte: bytesSinceRestart) }
    }

    func finish() throws {
        events.append("finish")
        sha256 = digest.finalizeHex()
        onFinish()
    }
}
