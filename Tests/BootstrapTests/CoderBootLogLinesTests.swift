import Fetch
import Foundation
import WorkspaceSpec
import XCTest

@testable import Bootstrap

/// What the boot log says, before anything is sent: the events' lines, the
/// pace of progress lines, the queue's bounds, what is cut out of a line.
final class CoderBootLogLinesTests: XCTestCase {
    static let token = "6f1d2c3b-4a59-4b43-9a3e-0b6f6c1e93f4"

    static func spec() -> WorkspaceSpec {
        var spec = WorkspaceSpec(
            workspace: .init(owner: "alice", name: "dev", id: "0b6f6c1e-93f4-4b43-9a3e-6f1d2c3b4a59"),
            user: .init(name: "coder"),
            coder: .init(
                accessURL: "https://coder.example.com/", token: token,
                proxy: .init(http: nil, https: "http://proxyuser:proxy-password@proxy.internal:3128"),
                agentHeaders: ["X-Tenant-Key": "tenant-key-123456"]))
        spec.codeServer.hashedPassword = "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2g"
        spec.codeServer.downloadURL = "https://mirror-user:mirror-pass@mirror.internal/code-server-{version}.tar.gz?X-Amz-Signature=abcdef"
        return spec
    }

    private func transcript(maxLineBytes: Int = 512) -> BootLogTranscript {
        BootLogTranscript(redaction: SecretRedaction(spec: Self.spec(), token: Self.token), maxLineBytes: maxLineBytes)
    }

    func testEventsBecomeOneShortLineEachForPeopleOnTheWorkspacePage() {
        var transcript = transcript()
        let now = ContinuousClock.now
        let cases: [(ComponentName, ComponentEvent, BootLogLine.Level?, String?)] = [
            (.codeServer, .pending(waitingFor: [.user]), nil, nil),
            (.codeServer, .converging, nil, nil),
            (.user, .progress("creating user coder"), .info, "user: creating user coder"),
            (.codeServer, .download(.started(what: "code-server 4.96.4", url: "https://x/y")), nil, nil),
            (
                .codeServer,
                .download(
                    .finished(
                        what: "code-server 4.96.4", url: "https://x/y", bytes: 120_000_000, notModified: false,
                        duration: .seconds(41))),
                .info, "code-server: code-server 4.96.4 downloaded (120 MB in 41 s)"
            ),
            (
                .agent, .download(.finished(what: "coder agent", url: "https://x/bin", bytes: 0, notModified: true, duration: .zero)),
                .info, "agent: coder agent is current (304 Not Modified)"
            ),
            (.agent, .download(.failed(what: "coder agent", url: "https://x/bin", error: "said by the next event")), nil, nil),
            (
                .agent,
                .waiting(
                    reason: "coder agent: GET https://coder.example.com/bin/coder-linux-amd64 answered HTTP 502",
                    retryIn: .milliseconds(7200), attempt: 3),
                .warn, "agent: coder agent: GET https://coder.example.com/bin/coder-linux-amd64 answered HTTP 502; trying again in 8 s (attempt 3)"
            ),
            (.agent, .started(unit: "coder-agent@coder.service"), .info, "agent: starting coder-agent@coder.service"),
            (.ssh, .healthy(first: true), .info, "ssh is ready"),
            (.ssh, .healthy(first: false), .info, "ssh is healthy again"),
            (
                .codeServer, .unhealthy(reason: "GET /healthz: connection refused", failures: 2, threshold: 3),
                .warn, "code-server: probe failed (2 of 3): GET /healthz: connection refused"
            ),
            (
                .codeServer, .restarting(reason: "probe failed", after: .seconds(2), restart: 1, budget: 5),
                .warn, "code-server: probe failed; restarting in 2 s (restart 1 of 5 allowed)"
            ),
            (.codeServer, .restarted(bySystemd: false, count: 1), nil, nil),
            (.codeServer, .restarted(bySystemd: true, count: 2), .warn, "code-server: systemd restarted it 2 time(s)"),
            (.docker, .blocked(by: .user, reason: "useradd failed"), .warn, "docker: waiting for user, which failed"),
            (
                .docker, .failed(lastError: "apt-get install docker.io exited 100", journalTail: ["secret tail"], retryIn: .seconds(300)),
                .error, "docker failed: apt-get install docker.io exited 100; trying again in 300 s"
            ),
            (.docker, .stage("converge", .seconds(3)), nil, nil),
        ]
        for (component, event, level, text) in cases {
            let lines = transcript.lines(for: event, of: component, at: now)
            XCTAssertEqual(lines.first?.level, level, "\(event)")
            XCTAssertEqual(lines.first?.output, text, "\(event)")
            XCTAssertLessThanOrEqual(lines.count, 1, "\(event)")
        }
    }

    func testTheWorkspaceGetsALineWhenItsPhaseChangesAndOnlyThen() {
        var transcript = transcript()
        var status = WorkspaceStatus(
            phase: .starting, summary: "starting", components: [], daemonPID: 1, daemonVersion: "0.1.0",
            startedAt: Date(), updatedAt: Date())
        XCTAssertEqual(transcript.lines(forWorkspace: status), [])
        status.phase = .degraded
        status.summary = "degraded: agent failed: no token; ready: user ssh"
        XCTAssertEqual(transcript.lines(forWorkspace: status).map(\.output), ["workspace degraded: agent failed: no token; ready: user ssh"])
        XCTAssertEqual(transcript.lines(forWorkspace: status), [], "the same phase again says nothing")
        status.phase = .ready
        status.readyAfterMilliseconds = 40_200
        status.components = [ComponentStatus(name: .user, state: .ready, required: true), ComponentStatus(name: .ssh, state: .ready, required: true)]
        let ready = transcript.lines(forWorkspace: status)
        XCTAssertEqual(ready.map(\.output), ["workspace ready after 41 s: user ssh"])
        XCTAssertEqual(ready.map(\.level), [.info])
        status.phase = .stopping
        XCTAssertEqual(transcript.lines(forWorkspace: status), [])
    }

    func testTheFirstLineSaysWhichDaemonBringsUpWhatWhere() {
        let status = WorkspaceStatus(
            phase: .starting, summary: "starting",
            components: [
                ComponentStatus(name: .user, state: .pending, required: true),
                ComponentStatus(name: .docker, state: .disabled, required: false),
                ComponentStatus(name: .agent, state: .pending, required: true),
            ],
            daemonPID: 1, daemonVersion: "0.1.0", startedAt: Date(), updatedAt: Date(),
            host: "Debian GNU/Linux 12 (bookworm)")
        XCTAssertEqual(transcript().opening(status).output, "coder-vm-bootstrap 0.1.0 on Debian GNU/Linux 12 (bookworm): bringing up user agent")
        var warm = status
        warm.components[0].state = .ready
        XCTAssertEqual(
            transcript().opening(warm).output,
            "coder-vm-bootstrap 0.1.0 on Debian GNU/Linux 12 (bookworm): bringing up user agent; ready already: user")
    }

    func testADownloadsProgressIsALineAtMostEveryFiveSecondsAndEveryTenPercent() {
        var transcript = transcript()
        let start = ContinuousClock.now
        var said: [String] = []
        // One report a second for 100 s, one percent each.
        for second in 0...100 {
            let progress = ComponentProgress(
                what: "code-server 4.96.4", bytes: Int64(second) * 1_200_000, totalBytes: 120_000_000,
                bytesPerSecond: 1_200_000)
            let lines = transcript.lines(for: .downloadProgress(progress), of: .codeServer, at: start.advanced(by: .seconds(second)))
            XCTAssertTrue(lines.allSatisfy { $0.replaces == .codeServer }, "a newer progress line replaces a waiting one")
            said += lines.map(\.output)
        }
        XCTAssertEqual(said, (1...10).map { "code-server: downloading code-server 4.96.4: \($0 * 10)% of 120 MB" })

        // Fast: 1% every 100 ms. A new step every second, but a line only every 5 s.
        _ = transcript.lines(for: .download(.started(what: "code-server 4.96.4", url: "u")), of: .codeServer, at: start)
        said = []
        for tenth in 0...100 {
            let progress = ComponentProgress(
                what: "code-server 4.96.4", bytes: Int64(tenth) * 1_200_000, totalBytes: 120_000_000,
                bytesPerSecond: 12_000_000)
            said += transcript.lines(for: .downloadProgress(progress), of: .codeServer, at: start.advanced(by: .milliseconds(100 * tenth)))
                .map(\.output)
        }
        XCTAssertEqual(said, ["10%", "60%"].map { "code-server: downloading code-server 4.96.4: \($0) of 120 MB" })
    }

    func testADownloadOfUnknownSizeIsALineAtOnceThenEveryThirtySeconds() {
        var transcript = transcript()
        let start = ContinuousClock.now
        let lines = (0...90).flatMap { second in
            transcript.lines(
                for: .downloadProgress(
                    .init(
                        what: "coder agent", bytes: Int64(second) * 1_000_000, totalBytes: nil,
                        bytesPerSecond: 1_000_000)),
                of: .agent, at: start.advanced(by: .seconds(second)))
        }
        XCTAssertEqual(
            lines.map(\.output), ["1.0 MB", "31 MB", "61 MB"].map { "agent: downloading coder agent: \($0) so far" },
            "nothing before the first byte")
    }

    func testADownloadWhoseSizeBecomesKnownGoesOnInSteps() {
        var transcript = transcript()
        let start = ContinuousClock.now
        var said: [String] = []
        for (second, bytes, total) in [
            (0, 1_000_000, nil), (1, 2_000_000, 100_000_000), (6, 30_000_000, 100_000_000),
            (8, 50_000_000, 100_000_000), (12, 60_000_000, 100_000_000),
        ] as [(Int, Int64, Int64?)] {
            said += transcript.lines(
                for: .downloadProgress(.init(what: "x", bytes: bytes, totalBytes: total, bytesPerSecond: 1)),
                of: .codeServer, at: start.advanced(by: .seconds(second))
            ).map(\.output)
        }
        XCTAssertEqual(
            said,
            [
                "code-server: downloading x: 1.0 MB so far", "code-server: downloading x: 30% of 100 MB",
                "code-server: downloading x: 60% of 100 MB",
            ])
    }

    func testNoSecretOfTheSpecIsInALine() {
        let transcript = transcript()
        let spec = Self.spec()
        let secrets = [
            Self.token, spec.codeServer.hashedPassword!, "tenant-key-123456", "proxy-password", "proxyuser:proxy-password",
            "mirror-user:mirror-pass", "mirror-pass", "X-Amz-Signature=abcdef",
        ]
        let text =
            "token \(Self.token), hash \(spec.codeServer.hashedPassword!), header tenant-key-123456, "
            + "proxy http://proxyuser:proxy-password@proxy.internal:3128, download \(spec.codeServer.downloadURL), bare mirror-pass"
        let line = transcript.line(.error, text).output
        for secret in secrets { XCTAssertFalse(line.contains(secret), "\(secret) in \(line)") }
        XCTAssertTrue(line.contains("proxy http://<redacted>@proxy.internal:3128"), line)
        XCTAssertTrue(line.contains("https://<redacted>@mirror.internal/code-server-{version}.tar.gz,"), "the query is cut: \(line)")
    }

    func testALineIsCutAfterItsSecretsAreOutAndNeverInsideACharacter() {
        let transcript = transcript(maxLineBytes: 60)
        // The token straddles the cut: redacted first, so no part of it survives.
        let line = transcript.line(.info, String(repeating: "ä", count: 25) + Self.token + "\u{1B}[31m\nnext").output
        XCTAssertLessThanOrEqual(line.utf8.count, 60)
        XCTAssertTrue(line.hasSuffix("…"), line)
        XCTAssertFalse(line.contains("6f1d"), line)
        XCTAssertTrue(String(decoding: Array(line.utf8), as: UTF8.self) == line, "valid UTF-8")
        let control = transcript.line(.info, "a\u{0}b\u{1B}[31mc\r\nd").output
        XCTAssertEqual(control, "a b [31mc  d", "no NUL (PostgreSQL refuses it), no escapes, one line")
    }

    func testTheQueueKeepsTheLatestProgressAndAtMostItsCapacityWithANotice() {
        var queue = BootLogQueue(capacity: 5)
        queue.append(BootLogLine(.info, "opening"))
        queue.append(BootLogLine(.info, "10%", replaces: .codeServer))
        queue.append(BootLogLine(.info, "agent 10%", replaces: .agent))
        queue.append(BootLogLine(.info, "20%", replaces: .codeServer))
        XCTAssertEqual(queue.waiting.map(\.output), ["opening", "agent 10%", "20%"], "a waiting progress line is replaced, not added")
        XCTAssertEqual(queue.take(2).map(\.output), ["opening", "agent 10%"])
        queue.append(BootLogLine(.info, "agent 20%", replaces: .agent))
        for n in 1...10 { queue.append(BootLogLine(.info, "line \(n)")) }
        XCTAssertEqual(queue.waiting.map(\.output), ["20%", "agent 20%", BootLogQueue.notice])
        XCTAssertEqual(queue.admitted, 5)
        XCTAssertEqual(queue.dropped, 10)
        queue.append(BootLogLine(.info, "30%", replaces: .codeServer))
        XCTAssertEqual(queue.waiting.map(\.output), ["agent 20%", BootLogQueue.notice, "30%"], "the latest progress still replaces")
    }

    func testAnUnknownCAIsToldAsTheSettingThatAddsIt() {
        let unknown = FetchError.transfer(
            url: "https://coder.example.com/bin/coder-linux-amd64", curlCode: 60,
            detail: "SSL certificate problem: unable to get local issuer certificate", attempts: 1)
        XCTAssertEqual(
            DownloadService.explain(unknown, host: "coder.example.com"),
            "TLS: unknown CA for coder.example.com: add it to coder.caCertificates (SSL certificate problem: unable to get local issuer certificate)")
        let expired = FetchError.transfer(url: "https://x/", curlCode: 60, detail: "SSL certificate problem: certificate has expired", attempts: 1)
        XCTAssertEqual(DownloadService.explain(expired, host: "x"), expired.description, "an expired certificate is not a missing CA")
    }
}
