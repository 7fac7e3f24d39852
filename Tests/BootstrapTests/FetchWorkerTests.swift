import BootstrapTestKit
import Fetch
import Foundation
import HostSystem
import Logging
import WorkspaceSpec
import XCTest

@testable import Bootstrap

/// Downloads and API calls as the daemon runs them: in `coder-vm-bootstrap
/// fetch-worker`, a child process (the built daemon), against a real HTTP server.
final class FetchWorkerTests: XCTestCase {
    private var server: TestFileServer!
    private var folder = ""
    private let content = Array((0..<2_000_000).map { UInt8(truncatingIfNeeded: $0 &* 2_654_435_761 >> 7) })
    /// 32 chunks of 64 KiB, 100 ms apart: about 3 s, long enough to look at the worker.
    private let slowPath = "/files/a.bin?chunk=65536&delay=100"

    override func setUpWithError() throws {
        BrokenPipes.failWrites()  // as in the daemon: a write to a worker that is gone fails with EPIPE
        server = try TestFileServer()
        try server.serve("a.bin", content)
        folder = NSTemporaryDirectory() + "worker-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        chmod(folder, 0o755)
        addTeardownBlock { [server, folder] in
            server?.stop()
            try? FileManager.default.removeItem(atPath: folder)
        }
    }

    private func service(maxAttempts: Int = 4) -> DownloadService {
        DownloadService(
            network: DownloadNetwork(
                extraCABundle: nil, proxy: .direct, maxAttempts: maxAttempts,
                initialDelay: .milliseconds(10), maxDelay: .milliseconds(50)),
            runner: .worker(executable: BuiltDaemon.url.path))
    }

    private func download(
        _ job: DownloadJob, events: RecordedEvents = RecordedEvents(),
        service: DownloadService? = nil
    ) async throws -> DownloadResult {
        try await runDownload(job, events: events, service: service ?? self.service())
    }

    private func destination(_ name: String = "a.bin") -> String { folder + "/" + name }

    /// Waits until the download has written some bytes.
    private func firstProgress(_ events: RecordedEvents) async {
        await events.wait { entry in
            if case let .downloadProgress(progress) = entry.event { return progress.bytes > 0 }
            return false
        }
    }

    /// The test process's children running `fetch-worker`.
    private func workers() throws -> [Int32] {
        try FileManager.default.contentsOfDirectory(atPath: "/proc").compactMap(Int32.init).filter { pid in
            guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                let afterName = stat.range(of: ")", options: .backwards)
            else { return false }
            let fields = stat[afterName.upperBound...].split(separator: " ")
            return fields.count > 1 && Int32(fields[1]) == getpid() && arguments(of: pid).contains("fetch-worker")
        }
    }

    private func arguments(of pid: Int32) -> [String] {
        (try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8))?.split(separator: "\0").map(String.init) ?? []
    }

    private func partSize(_ name: String = "a.bin") -> Int {
        ((try? FileManager.default.attributesOfItem(atPath: folder + "/." + name + ".part"))?[.size] as? Int) ?? -1
    }

    // MARK: scenarios

    func testRequestsAndMessagesRoundTripThroughJSONUnchanged() throws {
        let network = DownloadNetwork(
            extraCABundle: "/etc/coder-vm-bootstrap/ca.pem",
            proxy: .server("http://proxy.internal:3128", noProxy: "localhost,.svc"),
            maxBytes: 123_456, attemptTimeout: .seconds(42),
            maxAttempts: 3, initialDelay: .milliseconds(250), maxDelay: .seconds(8))
        let bodies: [DownloadJob.Body] = [
            .install, .unpack(staging: "/opt/code-server/.staging-4.96.4-amd64", stripComponents: 1),
            .verifyProgram(runAsUser: "coder", expectVersionContaining: "Coder"),
        ]
        var works: [FetchWorkerRequest.Work] = bodies.map { body in
            .download(
                DownloadJob(
                    url: "https://coder.example.com/bin/coder-linux-amd64?sig=x", destination: "/var/lib/x/coder",
                    expectedSHA256: String(repeating: "ab", count: 32), mode: 0o755, revalidation: .etag("\"3f1c\""),
                    headers: ["Coder-Session-Token": "6f1d2c3b", "X-Tenant": "alice\u{e9}"], body: body))
        }
        works.append(
            .call(
                APICall(
                    method: "PATCH", url: "https://coder.example.com/api/v2/workspaceagents/me/logs",
                    headers: ["Coder-Session-Token": "6f1d2c3b"], body: Data("{\"logs\":[]}\n".utf8),
                    timeout: .seconds(15), maxResponseBytes: 65536)))
        for work in works {
            let request = FetchWorkerRequest(work, network: network)
            let line = try JSONEncoder().encode(request)
            XCTAssertFalse(line.contains(UInt8(ascii: "\n")), "the request is one line of the worker's standard input")
            XCTAssertEqual(try JSONDecoder().decode(FetchWorkerRequest.self, from: line), request)
        }
        let messages: [FetchWorkerMessage] = [
            .update(.started), .update(.progress(bytes: 41, totalBytes: nil, bytesPerSecond: 2.5)),
            .update(.retryWait(attempt: 2, delay: .milliseconds(1500))),
            .finished(
                DownloadResult(
                    outcome: .notModified, bytesTransferred: 0, httpStatus: 304, etag: "\"e\"", sha256: nil,
                    duration: .milliseconds(12), attempts: 1)),
            .failed(DownloadFailure(.server, "GET https://x/y answered HTTP 503\nafter 4 attempts")),
            .answered(APIAnswer(HTTPResponse(status: 401, body: Array("{\"message\":\"no\"}\n".utf8), location: nil))),
            .callFailed(.transfer(url: "https://coder.example.com/api", curlCode: 60, detail: "SSL certificate problem", attempts: 1)),
        ]
        for message in messages {
            let line = try JSONEncoder().encode(message)
            XCTAssertFalse(line.contains(UInt8(ascii: "\n")))
            XCTAssertEqual(try JSONDecoder().decode(FetchWorkerMessage.self, from: line), message)
        }
    }

    func testWorkerKilledMidDownloadLeavesAPartFileTheNextRunResumes() async throws {
        let job = DownloadJob(url: server.url(slowPath), destination: destination(), revalidation: .never)
        let events = RecordedEvents()
        let service = service()
        let first = Task { try await runDownload(job, events: events, service: service) }
        await firstProgress(events)
        let worker = try XCTUnwrap(try workers().first, "the download runs in a child process")

        first.cancel()
        do {
            _ = try await first.value
            XCTFail("a cancelled download does not finish")
        } catch is CancellationError {}

        XCTAssertFalse(FileManager.default.fileExists(atPath: "/proc/\(worker)"), "the worker was torn down and reaped")
        let kept = partSize()
        XCTAssertGreaterThan(kept, 0, "the partial file stays")
        XCTAssertLessThan(kept, content.count)
        XCTAssertFalse(FileManager.default.fileExists(atPath: destination()))

        let second = try await download(job)

        XCTAssertEqual(second.outcome, .downloaded)
        XCTAssertEqual(Array(try Data(contentsOf: URL(fileURLWithPath: destination()))), content)
        XCTAssertEqual(second.bytesTransferred, Int64(content.count - kept), "only the rest was sent again")
        let last = try await server.requests().last
        XCTAssertEqual(last?.range, "bytes=\(kept)-")
        XCTAssertEqual(partSize(), -1)
    }

    func testServerFaultInTheWorkerComesBackAsAServerFault() async throws {
        let events = RecordedEvents()
        let unavailable = DownloadJob(url: server.url("/files/a.bin?fail=503:100"), destination: destination())
        do {
            _ = try await download(unavailable, events: events, service: service(maxAttempts: 2))
            XCTFail("a server that keeps answering 503 fails the download")
        } catch let error as ComponentError {
            XCTAssertEqual(error.kind, .server, error.description)
            XCTAssertTrue(error.description.hasPrefix("test file: ") && error.description.contains("HTTP 503"), error.description)
        }
        let recorded = events.events(of: .agent)
        XCTAssertTrue(recorded.contains(.progress("waiting for 127.0.0.1:\(server.port) (test file), attempt 2, next in 1 s")), "\(recorded)")
        XCTAssertTrue(recorded.contains { if case .download(.failed) = $0 { true } else { false } }, "\(recorded)")

        // And what no retry fixes is not called the server's fault.
        let missing = DownloadJob(url: server.url("/files/none.bin"), destination: destination("none.bin"))
        do {
            _ = try await download(missing)
            XCTFail("a 404 fails the download")
        } catch let error as ComponentError {
            XCTAssertEqual(error.kind, .configuration, error.description)
        }
    }

    func testTokenAndHeadersNeverAppearInTheWorkersArguments() async throws {
        let token = "6f1d2c3b-4a59-4b43-9a3e-0b6f6c1e93f4"
        let job = DownloadJob(
            url: server.url(slowPath), destination: destination(), revalidation: .never,
            headers: ["Coder-Session-Token": token])
        let events = RecordedEvents()
        let service = service()
        let running = Task { try await runDownload(job, events: events, service: service) }
        await firstProgress(events)

        let worker = try XCTUnwrap(try workers().first, "the download runs in a child process")
        let shown = arguments(of: worker)
        let environment = try String(contentsOfFile: "/proc/\(worker)/environ", encoding: .utf8)
        running.cancel()
        _ = try? await running.value

        XCTAssertEqual(shown, [BuiltDaemon.url.path, "fetch-worker"])
        XCTAssertFalse(environment.contains(token), "nor in its environment")
        XCTAssertFalse(environment.contains("Coder-Session-Token"))
    }

    func testTarballIsUnpackedIntoStagingByTheWorker() async throws {
        let tarball = folder + "/release.tar.gz"
        let python = Process()
        python.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        python.arguments = [
            "-c",
            """
            import io, sys, tarfile
            with tarfile.open(sys.argv[1], "w:gz") as t:
                for name, mode, data in [("code-server-4.96.4-linux-amd64/bin/code-server", 0o4755, b"#!/bin/sh\\n"),
                                         ("code-server-4.96.4-linux-amd64/lib/node", 0o755, b"\\x7fELF")]:
                    info = tarfile.TarInfo(name); info.mode = mode; info.size = len(data)
                    t.addfile(info, io.BytesIO(data))
            """, tarball,
        ]
        try python.run()
        python.waitUntilExit()
        let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: tarball)))
        try server.serve("release.tar.gz", bytes)
        let staging = folder + "/staging"
        try FileManager.default.createDirectory(atPath: staging, withIntermediateDirectories: false)

        let result = try await download(
            DownloadJob(
                url: server.url("/files/release.tar.gz"), destination: destination("release.tar.gz"),
                expectedSHA256: Digest.hex(.sha256, of: bytes), mode: 0o600, revalidation: .never,
                body: .unpack(staging: staging, stripComponents: 1)))

        XCTAssertEqual(result.sha256, Digest.hex(.sha256, of: bytes))
        let mode = try FileManager.default.attributesOfItem(atPath: staging + "/bin/code-server")[.posixPermissions] as? Int
        XCTAssertEqual(mode, 0o755, "unpacked, without its setuid bit")
        XCTAssertTrue(FileManager.default.fileExists(atPath: staging + "/lib/node"))
    }

    func testHTMLPageServedForAProgramIsRefusedAsAServerFault() async throws {
        let job = DownloadJob(
            url: server.url("/files/a.bin?html=1"), destination: destination("coder"), mode: 0o755,
            body: .verifyProgram(runAsUser: "nobody", expectVersionContaining: "Coder"))
        do {
            _ = try await download(job)
            XCTFail("an HTML page is not a program")
        } catch let error as ComponentError {
            XCTAssertEqual(error.kind, .server, error.description)
            XCTAssertTrue(error.description.contains("did not send a program for this machine"), error.description)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: destination("coder")))
    }

    func testDownloadedProgramIsNeverRunAsRootToCheckIt() async throws {
        try server.serve("tool", Array("#!/bin/sh\necho Coder v2\n".utf8))
        let job = DownloadJob(
            url: server.url("/files/tool"), destination: destination("tool"), mode: 0o755,
            body: .verifyProgram(runAsUser: "root", expectVersionContaining: "Coder"))
        do {
            _ = try await download(job)
            XCTFail("root never runs what a server sent")
        } catch let error as ComponentError {
            XCTAssertTrue(error.description.contains("never run as root"), error.description)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: destination("tool")))
    }

    /// A gate a test opens: what a prefetch's `NeedsReady` is to the agent's download.
    private final class Gate: Sendable {
        private let (opened, open) = AsyncStream<Void>.makeStream()
        func wait() async throws {
            for await _ in opened { return }
            throw CancellationError()
        }
        func openIt() {
            open.yield()
            open.finish()
        }
    }

    /// A thread of `pid` is blocked in read(2) on its standard input (from /proc/PID/task/*/syscall).
    private func readsItsInput(_ pid: Int32) -> Bool {
        #if arch(x86_64)
        let read = "0"
        #else
        let read = "63"  // arm64
        #endif
        let threads = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? []
        return threads.contains { thread in
            let call = (try? String(contentsOfFile: "/proc/\(pid)/task/\(thread)/syscall", encoding: .utf8)) ?? ""
            return call.split(separator: " ").prefix(2) == [Substring(read), "0x0"]
        }
    }

    /// A small program downloaded as the agent's binary is (checked as
    /// `nobody`), its check held until `gate` opens; returns once its whole
    /// body is in the partial file.
    private func downloadProgram(checkAfter gate: Gate) async throws -> (program: [UInt8], running: Task<DownloadResult, any Error>) {
        let program = Array("#!/bin/sh\necho Coder v2.18.0\n".utf8)
        try server.serve("coder", program)
        let job = DownloadJob(
            url: server.url("/files/coder"), destination: destination("coder"), mode: 0o755,
            body: .verifyProgram(runAsUser: "nobody", expectVersionContaining: "Coder"))
        let service = service()
        let running = Task {
            try await service.download(
                job, what: "coder agent", events: ComponentEvents(.agent, sink: RecordedEvents()), logger: Logger(label: "test"),
                beforeCheck: gate.wait)
        }
        let complete = try await eventually { self.partSize("coder") == program.count }
        XCTAssertTrue(complete, "the whole body downloaded before the gate opened")
        return (program, running)
    }

    func testAProgramsBytesDownloadAtOnceAndItsCheckAsTheUserWaitsForItsGate() async throws {
        guard UserIdentity.lookup("nobody") != nil, getuid() == 0 else { throw XCTSkip("runs a check as nobody: needs root and that user") }
        let gate = Gate()
        let (program, running) = try await downloadProgram(checkAfter: gate)
        let worker = try XCTUnwrap(try workers().first)
        let waits = try await eventually { self.readsItsInput(worker) }
        XCTAssertTrue(waits, "the worker, its body complete, waits on its input for the go")
        XCTAssertFalse(FileManager.default.fileExists(atPath: destination("coder")), "the program is neither checked nor installed yet")

        gate.openIt()
        let result = try await running.value

        XCTAssertEqual(result.outcome, .downloaded)
        XCTAssertEqual(Array(try Data(contentsOf: URL(fileURLWithPath: destination("coder")))), program)
    }

    func testAProgramWhoseCheckIsNeverLetRunIsNeitherInstalledNorLost() async throws {
        let (program, running) = try await downloadProgram(checkAfter: Gate())
        let worker = try XCTUnwrap(try workers().first)

        running.cancel()  // the component's supervision ends (a new spec) while the user is being made
        do {
            _ = try await running.value
            XCTFail("a download whose check never ran does not finish")
        } catch is CancellationError {}

        XCTAssertFalse(FileManager.default.fileExists(atPath: "/proc/\(worker)"), "the worker was torn down and reaped")
        XCTAssertFalse(FileManager.default.fileExists(atPath: destination("coder")), "an unchecked program is never installed")
        XCTAssertEqual(partSize("coder"), program.count, "the body stays for the next run")
    }

    // MARK: the spec's bounds (downloads.maxBytes, downloads.attemptTimeout)

    /// The daemon's service for a workspace whose spec has `limits`, its downloads in the worker.
    private func service(limits: DownloadLimits) -> DownloadService {
        let spec = WorkspaceSpec(
            workspace: .init(owner: "alice", name: "dev", id: "0b6f6c1e-93f4-4b43-9a3e-6f1d2c3b4a59"),
            user: .init(name: "coder"), downloads: limits)
        var service = DownloadService(spec: spec, extraCABundle: nil, runner: .worker(executable: BuiltDaemon.url.path))
        service.network.maxAttempts = 1
        return service
    }

    func testASpecCapSmallerThanTheFileFailsTheDownloadNamingTheCap() async throws {
        let cap = 1024 * 1024
        XCTAssertGreaterThan(content.count, cap)
        let events = RecordedEvents()
        do {
            _ = try await download(
                DownloadJob(url: server.url("/files/a.bin"), destination: destination()), events: events,
                service: service(limits: DownloadLimits(maxBytes: cap)))
            XCTFail("a file larger than downloads.maxBytes is not downloaded")
        } catch let error as ComponentError {
            XCTAssertEqual(error.kind, .configuration, "no retry makes the file smaller: \(error)")
            XCTAssertTrue(error.description.contains("larger than downloads.maxBytes (1048576 bytes)"), error.description)
            XCTAssertTrue(error.description.contains("raise downloads.maxBytes in the spec"), error.description)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: destination()), "nothing was installed")
        XCTAssertEqual(partSize(), -1, "nor kept to resume")
        XCTAssertTrue(events.events(of: .agent).contains { if case .download(.failed) = $0 { true } else { false } })

        // The same file within the default cap downloads.
        let fits = try await download(
            DownloadJob(url: server.url("/files/a.bin"), destination: destination()),
            service: service(limits: DownloadLimits()))
        XCTAssertEqual(fits.outcome, .downloaded)
    }

    func testTheSpecsAttemptDeadlineCutsAServerThatStallsTheBody() async throws {
        // 4 KiB a second, above libcurl's low-speed limit (1 KiB/s for 60 s):
        // only the attempt deadline ends it before the file's 8 minutes.
        let stalling = DownloadJob(url: server.url("/files/a.bin?chunk=4096&delay=1000"), destination: destination(), revalidation: .never)
        let service = service(limits: DownloadLimits(attemptTimeout: 10))
        let outcome = try await within(.seconds(240), "the download past downloads.attemptTimeout") {
            do {
                _ = try await runDownload(stalling, events: RecordedEvents(), service: service)
                return "downloaded"
            } catch let error as ComponentError {
                return "\(error.kind): \(error.description)"
            }
        }
        XCTAssertTrue(outcome.hasPrefix("server: test file: GET "), "a stalled server is the server's fault, tried again later: \(outcome)")
        XCTAssertTrue(outcome.contains("timed out"), outcome)
        XCTAssertTrue(outcome.contains("downloads.attemptTimeout (10 s)"), outcome)
        let kept = partSize()
        XCTAssertGreaterThan(kept, 0, "what came is kept for the next attempt to resume")
        XCTAssertLessThan(kept, content.count)
    }

    // MARK: API calls (the boot log's)

    func testAnAPICallInTheWorkerGetsItsAnswerWhateverTheStatus() async throws {
        try server.serve("answer.json", Array("{\"message\":\"hello\"}".utf8))
        let client = try service().apiClient(logger: Logger(label: "test"))
        XCTAssertTrue(client is WorkerHTTPClient, "in the daemon, calls run in the worker")

        let refused = try await client.send(
            "GET", server.url("/files/answer.json?fail=503:1"), headers: [:], body: nil,
            timeout: .seconds(10), maxResponseBytes: 1024)
        XCTAssertEqual(refused.status, 503, "an error status is an answer, not retried by the call")
        let answer = try await client.send(
            "GET", server.url("/files/answer.json?fail=503:1"), headers: [:], body: nil,
            timeout: .seconds(10), maxResponseBytes: 1024)
        XCTAssertEqual(answer.status, 200)
        XCTAssertEqual(String(decoding: answer.body, as: UTF8.self), "{\"message\":\"hello\"}")
        do {
            _ = try await client.send(
                "GET", server.url("/files/a.bin"), headers: [:], body: nil, timeout: .seconds(10),
                maxResponseBytes: 1024)
            XCTFail("an answer over the limit fails the call")
        } catch let error as FetchError {
            XCTAssertEqual(error, .tooLarge(url: server.url("/files/a.bin"), limit: 1024), "the worker's FetchError, as thrown")
        }
    }

    /// Polls (bounded) until `condition` holds; false if it never did.
    private func eventually(_ condition: () throws -> Bool) async throws -> Bool {
        let giveUp = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < giveUp {
            if try condition() { return true }
            try await Task.sleep(for: .milliseconds(10))
        }
        return false
    }

    func testASpareWorkerRunsWithLibcurlLoadedBeforeItsCallAndIsUsedOnce() async throws {
        try server.serve("answer.json", Array("{\"message\":\"hello\"}".utf8))
        let spares = SpareFetchWorkers(executable: BuiltDaemon.url.path, count: 1, logger: Logger(label: "test"))
        XCTAssertNil(spares.take(), "none runs before it is started")
        spares.start()
        var loaded: Int32?
        let ready = try await eventually {
            loaded = try workers().first { pid in
                // Read to its end: /proc says its size is 0.
                let maps = FileHandle(forReadingAtPath: "/proc/\(pid)/maps")?.readDataToEndOfFile() ?? Data()
                return String(decoding: maps, as: UTF8.self).contains("libcurl")
            }
            return loaded != nil
        }
        XCTAssertTrue(ready, "the spare worker started and loaded libcurl before any call")
        let spare = try XCTUnwrap(loaded)
        var service = service()
        service.spares = spares
        let client = try service.apiClient(logger: Logger(label: "test"))

        let answer = try await client.send(
            "GET", server.url("/files/answer.json"), headers: [:], body: nil, timeout: .seconds(10), maxResponseBytes: 1024)
        XCTAssertEqual(answer.status, 200)
        XCTAssertEqual(String(decoding: answer.body, as: UTF8.self), "{\"message\":\"hello\"}")
        XCTAssertFalse(try workers().contains(spare), "the spare answered that call and exited")
        XCTAssertNil(spares.take(), "a spare is used once")
        let again = try await client.send(
            "GET", server.url("/files/answer.json"), headers: [:], body: nil, timeout: .seconds(10), maxResponseBytes: 1024)
        XCTAssertEqual(again.status, 200, "the next call starts a worker of its own")
    }

    func testADismissedSpareWorkerExitsWithoutDoingAnything() async throws {
        let spares = SpareFetchWorkers(executable: BuiltDaemon.url.path, count: 2, logger: Logger(label: "test"))
        spares.start()
        let running = try await eventually { try workers().count == 2 }
        XCTAssertTrue(running, "both spares run")
        spares.dismiss()
        let ended = try await eventually { try workers().isEmpty }
        XCTAssertTrue(ended, "they read end-of-file and exit")
        XCTAssertNil(spares.take())
        spares.start()
        XCTAssertNil(spares.take(), "none starts after the dismissal")
    }

    func testACallsTokenNeverAppearsInTheWorkersArgumentsOrEnvironment() async throws {
        let token = "6f1d2c3b-4a59-4b43-9a3e-0b6f6c1e93f4"
        let client = try service().apiClient(logger: Logger(label: "test"))
        let url = server.url(slowPath)
        let running = Task {
            try await client.send(
                "GET", url, headers: ["Coder-Session-Token": token], body: nil,
                timeout: .seconds(30), maxResponseBytes: 4 * 1024 * 1024)
        }
        var found = try workers().first
        let giveUp = ContinuousClock.now + .seconds(30)
        while found == nil, ContinuousClock.now < giveUp {
            try await Task.sleep(for: .milliseconds(20))
            found = try workers().first
        }
        let worker = try XCTUnwrap(found, "the call runs in a child process")
        let shown = arguments(of: worker)
        let environment = try String(contentsOfFile: "/proc/\(worker)/environ", encoding: .utf8)
        let answer = try await running.value

        XCTAssertEqual(answer.status, 200)
        XCTAssertEqual(shown, [BuiltDaemon.url.path, "fetch-worker"])
        XCTAssertFalse(environment.contains(token) || environment.contains("Coder-Session-Token"), "nor in its environment")
    }

    func testAMissingCABundleIsToldBeforeAnyWorkerStarts() throws {
        var service = service()
        service.network.extraCABundle = folder + "/not-written-yet.pem"
        XCTAssertThrowsError(try service.apiClient(logger: Logger(label: "test"))) { error in
            XCTAssertEqual(
                error as? FetchError, .file(operation: "open", path: folder + "/not-written-yet.pem", errno: ENOENT),
                "as HTTPClient says it, so the boot log waits for the user component to write it")
        }
    }
}

/// `work`'s result, or a failure once `limit` has passed (then `work` is cancelled).
private func within<T: Sendable>(_ limit: Duration, _ what: String, _ work: @escaping @Sendable () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { try await work() }
        group.addTask {
            try await Task.sleep(for: limit)
            return nil
        }
        defer { group.cancelAll() }
        guard let first = try await group.next(), let result = first else {
            throw Overdue(description: "\(what): not done within \(limit)")
        }
        return result
    }
}

private struct Overdue: Error, CustomStringConvertible { let description: String }

/// `job` through `service`, named "test file", its events recorded as the agent's.
private func runDownload(_ job: DownloadJob, events: RecordedEvents, service: DownloadService) async throws -> DownloadResult {
    try await service.download(job, what: "test file", events: ComponentEvents(.agent, sink: events), logger: Logger(label: "test"))
}
