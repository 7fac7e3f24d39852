import Foundation
import Logging
import XCTest

@testable import SystemdSupport

#if canImport(Glibc)
import Glibc
#endif

/// libsystemd sends native journal entries to the fixed path
/// /run/systemd/journal/socket. To read them for real, the writer runs as a
/// child process (this test binary, re-executed for one test) in a private
/// mount namespace where that path is a socket this test bound. The child
/// has exited before we read, so every datagram it sent is already queued.
final class JournalLogHandlerTests: XCTestCase {
    static let secret = "s3cr3t-agent-token-value"

    func testJournalEntryCarriesMessagePriorityAndMetadataFields() throws {
        let datagrams = try runJournalChild(scenario: "journal-entry")
        XCTAssertEqual(datagrams.count, 1)
        let fields = try parseJournalDatagram(datagrams[0])
        let byName = Dictionary(
            fields.map { ($0.name, String(decoding: $0.value, as: UTF8.self)) },
            uniquingKeysWith: { first, _ in first })
        XCTAssertEqual(byName["MESSAGE"], "installed")
        XCTAssertEqual(byName["PRIORITY"], "6")
        XCTAssertEqual(byName["SYSLOG_IDENTIFIER"], "coder-vm-bootstrap-test")
        XCTAssertEqual(byName["COMPONENT"], "code-server")
        XCTAssertEqual(byName["STAGE"], "download")
        XCTAssertEqual(byName["DURATION_MS"], "812")
        XCTAssertEqual(byName["MESSAGE_ID"], MessageID.downloadFinished.rawValue)
        XCTAssertEqual(byName["CODE_FILE"], "SystemdSupportTests/JournalLogHandlerTests.swift")
        XCTAssertEqual(byName["CODE_FUNC"], "testChildProcessEntryPoint()")
        XCTAssertNotNil(byName["CODE_LINE"].flatMap(Int.init))
        // Handler metadata and per-call metadata are merged.
        XCTAssertEqual(byName["WORKSPACE"], "dev")
        // Every field name is one journald accepts.
        for field in fields {
            XCTAssertNotNil(field.name.range(of: "^[A-Z][A-Z0-9_]{0,63}$", options: .regularExpression), field.name)
        }
        XCTAssertEqual(Set(fields.map(\.name)).count, fields.count, "no field twice")
    }

    func testSecretMetadataNeverReachesTheJournal() throws {
        let datagrams = try runJournalChild(scenario: "journal-entry")
        let fields = try parseJournalDatagram(XCTUnwrap(datagrams.first))
        let byName = Dictionary(
            fields.map { ($0.name, String(decoding: $0.value, as: UTF8.self)) },
            uniquingKeysWith: { first, _ in first })
        XCTAssertEqual(byName["TOKEN"], "<redacted>")
        XCTAssertEqual(byName["CODER_AGENT_TOKEN"], "<redacted>")
        XCTAssertEqual(byName["PROXY"], "[password: <redacted>, user: dev]")
        for datagram in datagrams {
            XCTAssertFalse(datagram.contains(subsequence: Array(Self.secret.utf8)))
        }
    }

    func testMultiLineMessageUsesTheBinarySafeEncoding() throws {
        let datagrams = try runJournalChild(scenario: "journal-multiline")
        XCTAssertEqual(datagrams.count, 1)
        let message = Array("code-server exited\nstatus=1".utf8)
        var expected = Array("MESSAGE\n".utf8)
        withUnsafeBytes(of: UInt64(message.count).littleEndian) { expected.append(contentsOf: $0) }
        expected += message + [UInt8(ascii: "\n")]
        XCTAssertEqual(Array(datagrams[0].prefix(expected.count)), expected)
        let fields = try parseJournalDatagram(datagrams[0])
        XCTAssertEqual(fields.first { $0.name == "PRIORITY" }.map { String(decoding: $0.value, as: UTF8.self) }, "3")
        XCTAssertEqual(
            fields.first { $0.name == "MESSAGE_ID" }.map { String(decoding: $0.value, as: UTF8.self) },
            MessageID.componentFailed.rawValue)
    }

    func testWithoutJournalSocketEntriesFallBackToOneStderrLine() throws {
        let result = try runChild(scenario: "stderr-fallback", journalDirectory: nil)
        XCTAssertEqual(result.status, 0, result.stdout + result.stderr)
        let lines = result.stderr.split(separator: "\n").map(String.init)
        XCTAssertEqual(
            lines,
            [
                #"warning [code-server] download slow attempt=2 reason="connection reset" token=<redacted>"#,
                // No component metadata: the logger's label stands in.
                #"info [bootstrap] multi\nline note="a \"quoted\" value""#,
            ])
        XCTAssertFalse(result.stderr.contains(Self.secret))
    }

    /// With a real journald (nspawn system tests, a VM): the entry can be
    /// found by its fields with journalctl, as an operator would.
    func testEntryIsFoundInTheRealJournalByItsFields() throws {
        guard FileManager.default.fileExists(atPath: "/run/systemd/system"), Journal.isAvailable,
            FileManager.default.isExecutableFile(atPath: "/usr/bin/journalctl")
        else {
            throw XCTSkip("needs a running journald; Tests/system/test_systemd_support_in_container.py runs it in a booted container")
        }
        let run = UUID().uuidString
        let logger = Logger(label: "bootstrap") {
            JournalLogHandler(label: $0, identifier: "coder-vm-bootstrap-test", destination: .journal)
        }
        logger.notice(
            "workspace ready",
            metadata: [
                "component": "workspace", "test_run": "\(run)",
                MessageID.metadataKey: .messageID(.workspaceReady), "token": "\(Self.secret)",
            ])
        // --sync returns once journald has written everything sent before it.
        XCTAssertEqual(try runProcess("/usr/bin/journalctl", ["--sync"]).status, 0)
        let result = try runProcess("/usr/bin/journalctl", ["-o", "json", "--no-pager", "TEST_RUN=\(run)"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let lines = result.stdout.split(separator: "\n")
        XCTAssertEqual(lines.count, 1, result.stdout)
        let entry = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any])
        XCTAssertEqual(entry["MESSAGE"] as? String, "workspace ready")
        XCTAssertEqual(entry["PRIORITY"] as? String, "5")
        XCTAssertEqual(entry["COMPONENT"] as? String, "workspace")
        XCTAssertEqual(entry["MESSAGE_ID"] as? String, MessageID.workspaceReady.rawValue)
        XCTAssertEqual(entry["SYSLOG_IDENTIFIER"] as? String, "coder-vm-bootstrap-test")
        XCTAssertEqual(entry["TOKEN"] as? String, "<redacted>")
        XCTAssertFalse(result.stdout.contains(Self.secret))
    }

    // MARK: In-process: field names, redaction, line format

    func testMetadataKeysBecomeValidJournalFieldNames() {
        XCTAssertEqual(JournalFieldName.forMetadataKey("component"), "COMPONENT")
        XCTAssertEqual(JournalFieldName.forMetadataKey("duration_ms"), "DURATION_MS")
        XCTAssertEqual(JournalFieldName.forMetadataKey("duration-ms"), "DURATION_MS")
        XCTAssertEqual(JournalFieldName.forMetadataKey("http.status code"), "HTTP_STATUS_CODE")
        XCTAssertEqual(JournalFieldName.forMetadataKey("message_id"), "MESSAGE_ID")
        XCTAssertEqual(JournalFieldName.forMetadataKey("_pid"), "M__PID")
        XCTAssertEqual(JournalFieldName.forMetadataKey("9lives"), "M_9LIVES")
        XCTAssertEqual(JournalFieldName.forMetadataKey(""), "M_")
        XCTAssertEqual(JournalFieldName.forMetadataKey("größe"), "GR__E")  // one `_` per character
        // Fields the handler sets itself cannot be forged from metadata.
        XCTAssertEqual(JournalFieldName.forMetadataKey("message"), "M_MESSAGE")
        XCTAssertEqual(JournalFieldName.forMetadataKey("priority"), "M_PRIORITY")
        XCTAssertEqual(JournalFieldName.forMetadataKey("code_line"), "M_CODE_LINE")
        XCTAssertEqual(JournalFieldName.forMetadataKey(String(repeating: "k", count: 100)).count, 64)
    }

    func testSecretLookingKeysAreRedactedAtAnyDepth() {
        let metadata: Logger.Metadata = [
            "token": "a", "CODER_AGENT_TOKEN": "b", "db-password": "c", "clientSecret": "d",
            "Authorization": "e", "api.key": "f",
            "component": "coder-agent", "message_id": "x",
            "proxy": ["user": "dev", "passwd": "g"],
            "headers": [["name": "x"], ["cookie": "h"]],
        ]
        let redacted = metadata.redactingSecrets()
        for key in ["token", "CODER_AGENT_TOKEN", "db-password", "clientSecret", "Authorization", "api.key"] {
            XCTAssertEqual(redacted[key], "<redacted>", key)
        }
        XCTAssertEqual(redacted["component"], "coder-agent")
        XCTAssertEqual(redacted["message_id"], "x")
        XCTAssertEqual(redacted["proxy"], ["user": "dev", "passwd": "<redacted>"])
        XCTAssertEqual(redacted["headers"], [["name": "x"], ["cookie": "<redacted>"]])
    }

    func testPrioritiesFollowSyslogLevels() {
        XCTAssertEqual(Logger.Level.allCases.map(JournalLogHandler.priority(for:)), [7, 7, 6, 5, 4, 3, 2])
    }

    func testJournalFieldsComeInAStableOrder() {
        let fields = JournalLogHandler.journalFields(
            level: .notice, message: "m", metadata: ["zeta": "1", "alpha": "2"],
            identifier: "id", file: "F.swift", function: "f()", line: 7)
        XCTAssertEqual(
            fields.map { "\($0.name)=\($0.value)" },
            [
                "MESSAGE=m", "PRIORITY=5", "SYSLOG_IDENTIFIER=id", "CODE_FILE=F.swift", "CODE_LINE=7",
                "CODE_FUNC=f()", "ALPHA=2", "ZETA=1",
            ])
    }

    func testMessageIDsAre128BitLowercaseHexAndDistinct() {
        for id in MessageID.allCases {
            XCTAssertNotNil(id.rawValue.range(of: "^[0-9a-f]{32}$", options: .regularExpression), "\(id)")
        }
        XCTAssertEqual(Set(MessageID.allCases.map(\.rawValue)).count, MessageID.allCases.count)
    }

    // MARK: Child process

    /// Runs inside the child process only; it is the writer.
    func testChildProcessEntryPoint() throws {
        guard let scenario = ProcessInfo.processInfo.environment[Self.childVariable] else {
            throw XCTSkip("the writer half of the journal tests; runs only in their child process")
        }
        func logger(_ label: String, _ destination: JournalLogHandler.Destination = .automatic()) -> Logger {
            Logger(label: label) {
                JournalLogHandler(
                    label: $0, identifier: "coder-vm-bootstrap-test", destination: destination,
                    logLevel: .trace)
            }
        }
        switch scenario {
        case "journal-entry":
            XCTAssertEqual(JournalLogHandler.Destination.automatic(), .journal)
            var log = logger("bootstrap")
            log[metadataKey: "workspace"] = "dev"
            log.info(
                "installed",
                metadata: [
                    "component": "code-server", "stage": "download", "duration_ms": "812",
                    MessageID.metadataKey: .messageID(.downloadFinished),
                    "token": "\(Self.secret)", "CODER_AGENT_TOKEN": "\(Self.secret)",
                    "proxy": ["user": "dev", "password": "\(Self.secret)"],
                ])
        case "journal-multiline":
            logger("bootstrap").error(
                "code-server exited\nstatus=1",
                metadata: [
                    "component": "code-server", MessageID.metadataKey: .messageID(.componentFailed),
                ])
        case "stderr-fallback":
            XCTAssertEqual(JournalLogHandler.Destination.automatic(), .standardError)
            logger("bootstrap").warning(
                "download slow",
                metadata: [
                    "component": "code-server", "attempt": "2", "reason": "connection reset",
                    "token": "\(Self.secret)",
                ])
            // Forced to an absent journal: libsystemd drops the entry
            // silently (ENOENT is not an error to it), hence `.automatic()`.
            logger("bootstrap", .journal).error("dropped", metadata: ["component": "coder-agent"])
            logger("bootstrap").info("multi\nline", metadata: ["note": #"a "quoted" value"#])
        default:
            XCTFail("unknown scenario \(scenario)")
        }
    }

    private static let childVariable = "SYSTEMD_SUPPORT_TEST_CHILD"

    /// Runs the writer with `journalDirectory` (holding our socket) mounted at
    /// /run/systemd/journal, and returns every datagram it sent there.
    private func runJournalChild(scenario: String) throws -> [[UInt8]] {
        let directory = try TemporaryDirectory()
        let socket = try DatagramSocket(bindingTo: directory.path + "/socket")
        let result = try runChild(scenario: scenario, journalDirectory: directory.path)
        XCTAssertEqual(result.status, 0, result.stdout + result.stderr)
        XCTAssertEqual(result.stderr, "", "nothing should fall back to stderr")
        return try socket.receiveAllNow()
    }

    /// Re-executes this test binary for `testChildProcessEntryPoint` under
    /// `unshare --mount`, with a fresh tmpfs on /run so the host's /run is
    /// neither seen nor changed.
    private func runChild(scenario: String, journalDirectory: String?) throws -> ChildResult {
        guard getuid() == 0 else { throw XCTSkip("needs root for unshare --mount") }
        let script = """
            mount -t tmpfs -o mode=0755 tmpfs /run || exit 77
            mkdir -p /run/systemd/journal || exit 77
            if [ -n "$JOURNAL_DIR" ]; then mount --bind "$JOURNAL_DIR" /run/systemd/journal || exit 77; fi
            exec "$@"
            """
        var environment = ProcessInfo.processInfo.environment
        environment[Self.childVariable] = scenario
        environment["JOURNAL_DIR"] = journalDirectory ?? ""
        let test = "SystemdSupportTests.JournalLogHandlerTests/testChildProcessEntryPoint"
        let result = try runProcess(
            "/usr/bin/unshare",
            [
                "--mount", "--propagation", "private", "/bin/sh", "-c", script, "sh",
                CommandLine.arguments[0], test,
            ],
            environment: environment)
        if result.status == 77 || result.stderr.contains("unshare failed") {
            throw XCTSkip("cannot make a private mount namespace here: \(result.stderr)")
        }
        return result
    }
}
