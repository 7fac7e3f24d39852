import BootstrapTestKit
import Foundation
import HostSystem
import Logging
import Synchronization
import SystemdSupport
import WorkspaceSpec
import XCTest

@testable import Bootstrap

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The boot log against the stand-in Coder server (Tests/standins/coder):
/// real libcurl in the daemon's fetch worker, real HTTP, coderd's answers (401 until the build is done,
/// 403 for an older build's token), every call recorded by the stand-in.
final class CoderBootLogTests: XCTestCase {
    static let token = "6f1d2c3b-4a59-4b43-9a3e-0b6f6c1e93f4"
    static let workspaceID = "0b6f6c1e-93f4-4b43-9a3e-6f1d2c3b4a59"
    static let sourceID = "ebda59df-7e88-469d-acec-7356a894c52c"  // BootLogSource.id: a literal, so that changing it fails here
    var coder: CoderStandin!
    var journal: JournalRecorder!
    var running: [Task<Void, Never>] = []

    override func setUp() async throws {
        // As in the daemon: a worker killed at its deadline before it read its request
        // makes that write fail with EPIPE instead of killing the test process.
        BrokenPipes.failWrites()
        coder = try CoderStandin()
        journal = JournalRecorder()
    }

    override func tearDown() async throws {
        for task in running { task.cancel() }
        for task in running { await task.value }
        coder.stop()
    }

    static var fast: CoderBootLog.Limits {
        var limits = CoderBootLog.Limits()
        limits.batchWindow = .milliseconds(20)
        limits.retry = .init(initial: .milliseconds(20), maximum: .milliseconds(100))
        limits.graceAfterReady = .milliseconds(100)
        limits.callTimeout = .seconds(5)
        return limits
    }

    func spec(accessURL: String? = nil) -> WorkspaceSpec {
        WorkspaceSpec(
            workspace: .init(owner: "alice", name: "dev", id: Self.workspaceID), user: .init(name: "coder"),
            coder: .init(accessURL: accessURL ?? coder.url, token: Self.token, agentHeaders: ["X-Tenant-Key": "tenant-key-123456"]))
    }

    /// The board and the boot log behind one fan-out, as the engine wires them, the boot log running.
    func start(_ spec: WorkspaceSpec, limits: CoderBootLog.Limits = fast, extraCABundle: String? = nil)
        throws -> (events: EventFanOut, bootLog: CoderBootLog, task: Task<Void, Never>)
    {
        let file = NSTemporaryDirectory() + "status-\(UUID().uuidString).json"
        addTeardownBlock { try? FileManager.default.removeItem(atPath: file) }
        let host = HostDetection(OSRelease(fields: ["ID": "debian", "VERSION_ID": "12", "PRETTY_NAME": "Debian GNU/Linux 12 (bookworm)"]))
        let board = StatusBoard(
            spec: spec, specPath: nil, host: host, notifier: Notifier(), statusFile: file,
            logger: Logger(label: "board") { _ in SwiftLogNoOpLogHandler() })
        let journal = journal!
        let logger = Logger(label: "boot-log") { _ in journal }
        // Each call in a fetch worker (the built daemon), as in the daemon.
        let network = DownloadService(spec: spec, extraCABundle: extraCABundle, runner: .worker(executable: BuiltDaemon.url.path))
        let bootLog = try XCTUnwrap(
            CoderBootLog(
                spec: spec, network: network,
                status: { board.snapshot }, logger: logger, limits: limits))
        let task = Task { await bootLog.run() }
        running.append(task)
        return (EventFanOut([board, bootLog]), bootLog, task)
    }

    func testLinesWaitThrough401sUntilTheBuildIsDoneThenArriveInOrderAsOneSource() async throws {
        try await coder.control("build", ["done_after": 3])
        let (events, _, _) = try start(spec())
        events.record(.progress("creating user coder"), for: .user)
        events.record(.healthy(first: true), for: .user)
        events.record(
            .downloadProgress(.init(what: "code-server 4.96.4", bytes: 60_000_000, totalBytes: 120_000_000, bytesPerSecond: 1)),
            for: .codeServer)
        events.record(
            .download(
                .finished(
                    what: "code-server 4.96.4", url: "https://x/y", bytes: 120_000_000, notModified: false,
                    duration: .seconds(41))), for: .codeServer)
        let lines = try await eventually("five lines") {
            let lines = try await self.coder.lines()
            return lines.count >= 5 ? lines : nil
        }
        XCTAssertEqual(
            lines.map(\.output),
            [
                "coder-vm-bootstrap \(BuildInfo.version) on Debian GNU/Linux 12 (bookworm): bringing up user ssh docker code-server agent",
                "user: creating user coder",
                "user is ready",
                "code-server: downloading code-server 4.96.4: 50% of 120 MB",
                "code-server: code-server 4.96.4 downloaded (120 MB in 41 s)",
            ])
        XCTAssertEqual(Set(lines.map(\.source)), [Self.sourceID])
        XCTAssertEqual(Set(lines.map(\.level)), ["info"])

        let calls = try await coder.calls()
        XCTAssertEqual(
            calls.prefix(4).map { "\($0.method) \($0.status)" }, ["POST 401", "POST 401", "POST 401", "POST 201"],
            "the lines waited while Coder answered 401")
        XCTAssertEqual(calls.filter { $0.method == "POST" && $0.status == 201 }.count, 1, "the source is registered once")
        XCTAssertEqual(calls[3].body["id"] as? String, Self.sourceID)
        XCTAssertEqual(calls[3].body["display_name"] as? String, "coder-vm-bootstrap")
        for call in calls {
            XCTAssertEqual(call.headers["Coder-Session-Token"], Self.token)
            XCTAssertEqual(call.headers["X-Tenant-Key"], "tenant-key-123456", "the agent's extra headers go along")
            XCTAssertFalse(call.path.contains(Self.token) || call.bodyText.contains(Self.token), "the token is in its header only")
        }
        for patch in calls where patch.method == "PATCH" {
            XCTAssertEqual(patch.body["log_source_id"] as? String, Self.sourceID)
        }
    }

    func testNoSecretOfTheSpecLeavesTheVMButTheTokenInItsHeader() async throws {
        var spec = spec()
        spec.codeServer.hashedPassword = "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2g"
        spec.codeServer.downloadURL = "https://mirror-user:mirror-pass@mirror.internal/cs-{version}.tar.gz?X-Amz-Signature=abcdef"
        let secrets = [Self.token, spec.codeServer.hashedPassword!, "tenant-key-123456", "mirror-pass", "X-Amz-Signature=abcdef"]
        let (events, _, _) = try start(spec)
        events.record(.progress("downloading from \(spec.codeServer.downloadURL)"), for: .codeServer)
        events.record(
            .failed(
                lastError: "token \(Self.token) refused, header tenant-key-123456, hash \(spec.codeServer.hashedPassword!)",
                journalTail: nil, retryIn: .seconds(300)), for: .agent)
        let lines = try await eventually("the lines") {
            let lines = try await self.coder.lines()
            return lines.count >= 3 ? lines : nil
        }
        XCTAssertEqual(lines[1].output, "code-server: downloading from https://<redacted>@mirror.internal/cs-{version}.tar.gz")
        XCTAssertEqual(lines[2].level, "error")
        let calls = try await coder.calls()
        for call in calls {
            for secret in secrets { XCTAssertFalse(call.bodyText.contains(secret) || call.path.contains(secret), "\(secret) in \(call.bodyText)") }
        }
        for entry in journal.entries { XCTAssertFalse(entry.message.contains(Self.token), entry.message) }
    }

    func testABootSendsAtMostItsLimitOfLinesEachCutToSize() async throws {
        var limits = Self.fast
        limits.maxLines = 20
        limits.maxLineBytes = 120
        let (events, bootLog, task) = try start(spec(), limits: limits)
        for step in 1...60 { events.record(.progress("step \(step): " + String(repeating: "é", count: 300)), for: .docker) }
        let lines = try await eventually("the notice") {
            let lines = try await self.coder.lines()
            return lines.last?.output == BootLogQueue.notice ? lines : nil
        }
        XCTAssertEqual(lines.count, 20)
        XCTAssertTrue(lines.allSatisfy { $0.output.utf8.count <= 120 }, "\(lines.map { $0.output.utf8.count })")
        XCTAssertEqual(lines[1].output.prefix(17), "docker: step 1: é")
        XCTAssertEqual(lines[18].output.prefix(18), "docker: step 18: é")
        let patches = try await coder.calls().filter { $0.method == "PATCH" }
        XCTAssertTrue(patches.allSatisfy { ($0.body["logs"] as? [Any])?.count ?? 0 <= limits.batchLines })
        task.cancel()
        await task.value
        XCTAssertTrue(journal.entries.contains { $0.message.contains("42 over its limit of 20") }, "\(journal.entries)")
        _ = bootLog
    }

    func testATokenOfAnOlderBuildIsToldAndTheAgentFailsAsAConfigurationError() async throws {
        try await coder.control("tokens", ["stale": [Self.token]])
        let (_, bootLog, task) = try start(spec())
        await task.value  // a 403 ends the boot log: nothing can be shown
        let refusal = try XCTUnwrap(bootLog.verdict.current)
        XCTAssertEqual(
            refusal,
            "Coder refuses this workspace's agent token (HTTP 403: Agent trying to connect from non-latest build.): "
                + "the VM runs an older build's token; restart the workspace from Coder")
        XCTAssertEqual(journal.entries.filter { $0.level == .error }.map(\.message), [refusal])
        let calls = try await coder.calls()
        XCTAssertEqual(calls.map { "\($0.method) \($0.status)" }, ["POST 403"])

        // The agent's supervision: a configuration error, reported failed with what to do, not retried in a loop.
        let clock = VirtualClock()
        let units = FakeUnits(clock: clock)
        let agent = FakeComponent(.agent, unit: "coder-agent@coder.service", units: units)
        let guarded = bootLog.guarding(agent)
        let recorded = RecordedEvents()
        let policy = SupervisionPolicy()
        let supervisor = Supervisor(
            component: guarded, context: .testing(.agent, events: recorded), units: units, events: recorded,
            gate: DependencyGate(), policy: policy, clock: clock, random: { 0 })
        let supervision = Task { await supervisor.run() }
        await recorded.wait(occurrences: 3) { if case .failed = $0.event { true } else { false } }
        supervision.cancel()
        await supervision.value
        let seen = recorded.events(of: .agent)
        let pairs = stride(from: 0, to: seen.count - 1, by: 2).map { Array(seen[$0...$0 + 1]) }
        XCTAssertTrue(pairs.allSatisfy { $0 == [.converging, .failed(lastError: refusal, journalTail: nil, retryIn: policy.cooldown)] }, "\(seen)")
        let failures = seen.filter { if case .failed = $0 { true } else { false } }.count
        XCTAssertGreaterThanOrEqual(clock.now.offset, policy.cooldown * (failures - 1), "tried again only after each cooldown")
        XCTAssertEqual(units.record(of: "coder-agent@coder.service").starts, 0, "the agent is never started while Coder refuses its token")
        let probed = await guarded.probe()
        XCTAssertEqual(probed, .unhealthy(refusal))
        XCTAssertTrue(
            bootLog.guarding(FakeComponent(.codeServer, unit: nil, units: units)) is FakeComponent<VirtualClock>,
            "only the agent is guarded")
        let realAgent = CoderAgentComponent(spec: spec(), coder: spec().coder!)
        XCTAssertTrue(bootLog.guarding(realAgent).usesSecrets, "guarded, it still never starts from the last boot's spec")
    }

    func testTheAgentWaitsForCodersFirstAnswerSoATokenRefusedAtBootIsSaidAtOnce() async throws {
        let units = FakeUnits(clock: VirtualClock())
        let agent = FakeComponent(.agent, unit: "coder-agent@coder.service", units: units)
        let verdict = AgentTokenVerdict()
        let guarded = TokenCheckedComponent(wrapped: agent, verdict: verdict, firstAnswerLimit: .seconds(60))
        let context = ComponentContext.testing(.agent, events: RecordedEvents())
        let converging = Task { try await guarded.converge(context) }
        // The binary's revalidation runs meanwhile; the converge ends only with Coder's answer.
        while agent.converges == 0 { await Task.yield() }
        verdict.refuse("Coder refuses this workspace's agent token")
        do {
            _ = try await converging.value
            XCTFail("a refused token must fail the agent's converge")
        } catch let error as ComponentError {
            XCTAssertEqual(error.kind, .configuration)
            XCTAssertEqual(error.description, "Coder refuses this workspace's agent token")
        }

        // Coder never answers: the agent goes on after the limit, and at once once Coder has answered.
        let unanswered = TokenCheckedComponent(wrapped: agent, verdict: AgentTokenVerdict(), firstAnswerLimit: .milliseconds(50))
        let waited = ContinuousClock.now
        _ = try await unanswered.converge(context)
        XCTAssertGreaterThanOrEqual(waited.duration(to: .now), .milliseconds(50), "it waited for the first answer")
        verdict.accept()
        _ = try await guarded.converge(context)
        XCTAssertEqual(agent.converges, 3)
    }

    func testA401ThatOutlastsAnyBuildIsARefusalUntilCoderTakesTheToken() async throws {
        try await coder.control("build", ["done": false])
        var limits = Self.fast
        limits.refusalAfterUnauthorized = .milliseconds(300)
        let (events, bootLog, _) = try start(spec(), limits: limits)
        let refusal = try await eventually("the refusal") { bootLog.verdict.current }
        XCTAssertTrue(
            refusal.hasPrefix("Coder refuses this workspace's agent token (HTTP 401 for over 1 s, longer than a build takes")
                && refusal.hasSuffix("restart the workspace from Coder"), refusal)
        let told = journal.entries.map(\.message)
        XCTAssertEqual(told.filter { $0.contains("does not take the agent token yet") }.count, 1, "said once however often it is tried: \(told)")
        XCTAssertEqual(told.filter { $0 == refusal }.count, 1, "\(told)")

        try await coder.control("build", ["done": true])
        events.record(.healthy(first: true), for: .user)
        _ = try await eventually("the verdict withdrawn") { bootLog.verdict.current == nil ? true : nil }
        let lines = try await eventually("the lines") {
            let lines = try await self.coder.lines()
            return lines.count >= 2 ? lines : nil
        }
        XCTAssertEqual(lines.last?.output, "user is ready")
    }

    func testTheBootLogEndsOnceTheWorkspaceHasBeenReadyForItsGrace() async throws {
        let (events, _, task) = try start(spec())
        for name in ComponentName.allCases { events.record(.healthy(first: true), for: name) }
        await task.value
        let lines = try await coder.lines()
        XCTAssertEqual(lines.last?.output.hasPrefix("workspace ready after "), true, "\(lines.map(\.output))")
        XCTAssertTrue(lines.last?.output.hasSuffix(": user ssh docker code-server agent") ?? false)
        let callsAtEnd = try await coder.calls().count
        events.record(.unhealthy(reason: "later", failures: 1, threshold: 3), for: .ssh)
        let callsAfter = try await coder.calls().count
        XCTAssertEqual(callsAtEnd, callsAfter, "an event after the end is not sent")
        XCTAssertFalse(journal.entries.contains { $0.message.contains("unsent") }, "nothing was left behind: \(journal.entries)")
    }

    func testEventsAreTakenAtOnceWhileCoderNeverAnswers() async throws {
        let silent = try SilentListener()
        defer { silent.stop() }
        var limits = Self.fast
        limits.callTimeout = .seconds(60)
        let (_, bootLog, task) = try start(spec(accessURL: "http://127.0.0.1:\(silent.port)/"), limits: limits)
        for step in 1...20_000 { bootLog.record(.progress("step \(step)"), for: .docker) }
        task.cancel()
        await task.value
        XCTAssertTrue(journal.entries.contains { $0.message.contains("over its limit of 200") }, "\(journal.entries)")
    }

    func testACoderBehindAnUnknownCAGetsNoCallAndTheJournalSaysWhatToAdd() async throws {
        let tls = try SelfSignedCertificate()
        let secure = try CoderStandin(tls: tls)
        defer { secure.stop() }
        let (_, bootLog, task) = try start(spec(accessURL: secure.url))
        let told = try await eventually("the advice") {
            self.journal.entries.first { $0.message.contains("TLS: unknown CA for 127.0.0.1:\(secure.port): add it to coder.caCertificates") }
        }
        XCTAssertEqual(told.level, .warning)
        XCTAssertNil(bootLog.verdict.current, "a TLS failure says nothing about the token")
        XCTAssertFalse(
            FileManager.default.fileExists(atPath: secure.stateDirectory.appendingPathComponent("log-calls.jsonl").path),
            "no call, so no token, reached a server that is not trusted")
        task.cancel()
        await task.value

        // With that CA in the extra bundle (what coder.caCertificates becomes), the lines arrive.
        _ = try start(spec(accessURL: secure.url), extraCABundle: tls.certificate)
        let calls = try await eventually("a call") {
            let text = try? String(contentsOf: secure.stateDirectory.appendingPathComponent("log-calls.jsonl"), encoding: .utf8)
            return (text?.contains("\"status\": 200") ?? false) ? text : nil
        }
        XCTAssertTrue(calls.contains("bringing up"), calls)
    }

    func testOnlyTokenAuthHasABootLog() throws {
        let network = DownloadService(spec: spec(), extraCABundle: nil)
        let status: @Sendable () -> WorkspaceStatus = {
            WorkspaceStatus(phase: .starting, summary: "", components: [], daemonPID: 1, daemonVersion: "0", startedAt: Date(), updatedAt: Date())
        }
        var identity = spec()
        identity.coder?.auth = .googleInstanceIdentity
        XCTAssertNil(CoderBootLog(spec: identity, network: network, status: status, logger: Logger(label: "t")))
        var none = spec()
        none.coder = nil
        XCTAssertNil(CoderBootLog(spec: none, network: network, status: status, logger: Logger(label: "t")))
        var missingFile = spec()
        missingFile.coder?.token = nil
        missingFile.coder?.tokenFile = "/nonexistent/token"
        XCTAssertNil(
            CoderBootLog(spec: missingFile, network: network, status: status, logger: Logger(label: "t")),
            "the agent component reports a missing token file")
        let file = NSTemporaryDirectory() + "token-\(UUID().uuidString)"
        try Data("  \(Self.token)\n".utf8).write(to: URL(fileURLWithPath: file))
        defer { try? FileManager.default.removeItem(atPath: file) }
        var fromFile = spec()
        fromFile.coder?.token = nil
        fromFile.coder?.tokenFile = file
        XCTAssertNotNil(CoderBootLog(spec: fromFile, network: network, status: status, logger: Logger(label: "t")))
        XCTAssertEqual(try AgentToken.read(fromFile.coder!), Self.token, "the token file without its white space")
    }

    /// Polls `probe` until it gives a value (every 20 ms, at most `timeout`).
    func eventually<T>(_ what: String, timeout: Duration = .seconds(30), _ probe: () async throws -> T?) async throws -> T {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        while true {
            if let value = try await probe() { return value }
            guard ContinuousClock.now < deadline else { throw Timeout(what: what) }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    struct Timeout: Error { let what: String }
}

/// The stand-in Coder server (Tests/standins/coder/coder_server.py), run for one test.
final class CoderStandin: @unchecked Sendable {  // immutable after init
    struct Line: Decodable {
        let source: String
        let level: String
        let output: String
    }

    /// One log-source or logs call as the stand-in recorded it.
    struct Call {
        let method: String
        let path: String
        let status: Int
        let headers: [String: String]
        let body: [String: Any]
        let bodyText: String
    }

    let port: Int
    let stateDirectory: URL
    let scheme: String
    private let process = Process()

    init(tls: SelfSignedCertificate? = nil) throws {
        stateDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("coder-standin-\(UUID().uuidString)")
        let script = repositoryRoot.appendingPathComponent("Tests/standins/coder/coder_server.py")
        let output = Pipe()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments =
            ["python3", script.path, "--port", "0", "--state-dir", stateDirectory.path]
            + (tls.map { ["--tls-cert", $0.certificate, "--tls-key", $0.key] } ?? [])
        scheme = tls == nil ? "http" : "https"
        process.standardOutput = output
        try process.run()
        var line = Data()
        while !line.contains(UInt8(ascii: "\n")) {
            let chunk = output.fileHandleForReading.availableData
            guard !chunk.isEmpty else { throw CoderBootLogTests.Timeout(what: "the stand-in Coder server to start") }
            line += chunk
        }
        let text = String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard text.hasPrefix("PORT="), let port = Int(text.dropFirst(5)) else { throw CoderBootLogTests.Timeout(what: "a port: \(text)") }
        self.port = port
    }

    var url: String { "\(scheme)://127.0.0.1:\(port)/" }

    /// POST /_standin/NAME with a JSON body.
    func control(_ name: String, _ body: [String: Any]) async throws {
        var request = URLRequest(url: URL(string: "\(url)_standin/\(name)")!)
        request.httpMethod = "POST"
        request.httpBody = try JSONSerialization.data(withJSONObject: body)
        _ = try await URLSession.shared.data(for: request)
    }

    func lines() async throws -> [Line] {
        try JSONDecoder().decode([Line].self, from: try await get("logs"))
    }

    func calls() async throws -> [Call] {
        let records = try JSONSerialization.jsonObject(with: try await get("log-calls")) as? [[String: Any]] ?? []
        return try records.map { record in
            let body = record["body"] as? [String: Any] ?? [:]
            return Call(
                method: record["method"] as? String ?? "", path: record["path"] as? String ?? "", status: record["status"] as? Int ?? 0,
                headers: record["received_headers"] as? [String: String] ?? [:], body: body,
                bodyText: String(decoding: try JSONSerialization.data(withJSONObject: body), as: UTF8.self))
        }
    }

    private func get(_ name: String) async throws -> Data {
        try await URLSession.shared.data(from: URL(string: "\(url)_standin/\(name)")!).0
    }

    func stop() {
        if process.isRunning {
            // SIGKILL: the server inherits the test thread's blocked SIGTERM.
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: stateDirectory)
    }
}

/// A certificate for 127.0.0.1 that nothing trusts (openssl req -x509).
struct SelfSignedCertificate {
    let certificate: String
    let key: String

    init() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        certificate = folder.appendingPathComponent("cert.pem").path
        key = folder.appendingPathComponent("key.pem").path
        let openssl = Process()
        openssl.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        openssl.arguments = [
            "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-days", "2", "-subj", "/CN=coder-standin", "-addext", "subjectAltName=IP:127.0.0.1",
            "-keyout", key, "-out", certificate,
        ]
        openssl.standardError = FileHandle.nullDevice
        try openssl.run()
        openssl.waitUntilExit()
        guard openssl.terminationStatus == 0 else { throw XCTSkip("openssl could not make a certificate") }
    }
}

/// A TCP port that takes connections and never answers (the kernel's backlog).
final class SilentListener {
    let port: Int
    private let process = Process()

    init() throws {
        let output = Pipe()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "python3", "-c",
            """
            import socket, sys, time
            s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(64)
            print(s.getsockname()[1], flush=True); time.sleep(600)
            """,
        ]
        process.standardOutput = output
        try process.run()
        let line = String(decoding: output.fileHandleForReading.availableData, as: UTF8.self)
        guard let port = Int(line.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw CoderBootLogTests.Timeout(what: "a silent port: \(line)")
        }
        self.port = port
    }

    func stop() {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }
}

/// Keeps what the boot log tells the journal.
final class JournalRecorder: LogHandler, @unchecked Sendable {  // entries behind a Mutex; the rest is set up once
    struct Entry: Sendable {
        let level: Logger.Level
        let message: String
    }

    private let stored = Mutex<[Entry]>([])
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        stored.withLock { $0.append(Entry(level: event.level, message: event.message.description)) }
    }

    var entries: [Entry] { stored.withLock { $0 } }
}
