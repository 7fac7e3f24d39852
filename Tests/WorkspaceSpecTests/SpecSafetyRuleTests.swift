import Foundation
import XCTest

@testable import WorkspaceSpec

/// The rules that keep a spec from turning the root daemon against the VM,
/// shown one scenario at a time (the bad-spec table runs the refusals
/// through check-config as well).
final class SpecSafetyRuleTests: XCTestCase {
    private func full(_ change: (inout JSONValue) -> Void = { _ in }) throws -> JSONValue {
        var tree = try exampleJSON("full.json")
        change(&tree)
        return tree
    }

    private func diagnostics(_ tree: JSONValue) -> [SpecDiagnostic] {
        do {
            _ = try SpecDecoder.decode(tree)
            return []
        } catch {
            return error.diagnostics
        }
    }

    private func diagnostics(json: String) -> [SpecDiagnostic] {
        do {
            _ = try SpecDecoder.decode(json: Data(json.utf8))
            return []
        } catch {
            return error.diagnostics
        }
    }

    // MARK: - Control characters

    func testBindAddressWithControlCharacterIsRefusedWithItsPath() throws {
        let found = diagnostics(try full { $0[path: ["codeServer", "bindAddress"]] = .string("127.0.0.1:13337\nauth: none") })
        XCTAssertEqual(found.map(\.path), ["codeServer.bindAddress"])
        XCTAssertTrue(found[0].message.contains("U+000A"), found[0].message)
        XCTAssertNotNil(found[0].hint)
    }

    func testEveryControlCharacterIsRefusedInTheToken() throws {
        let controls = Array(0x00...0x1F) + Array(0x7F...0x9F) + [0x2028, 0x2029, 0xFEFF, 0xFFFE, 0xFFFF, 0xFDD0]
        for value in controls {
            let scalar = Unicode.Scalar(UInt32(value))!
            let found = diagnostics(try full { $0[path: ["coder", "token"]] = .string("6f1d2c3b\(scalar)4a59") })
            XCTAssertEqual(found.map(\.path), ["coder.token"], "U+\(String(value, radix: 16))")
        }
    }

    func testPrintableUnicodeIsNotAControlCharacter() throws {
        for text in ["é", "😀", "\u{A0}x", "日本"] {
            XCTAssertNil(FieldRules.controlCharacters("token-\(text)"), text)
        }
        XCTAssertNoThrow(try SpecDecoder.decode(try full { $0[path: ["coder", "agentHeaders"]] = .object(["X-Tenant": .string("Zoë")]) }))
    }

    func testCACertificateKeepsItsLineBreaksButNoOtherControlCharacter() throws {
        let pem = try XCTUnwrap(
            exampleJSON("full.json")[path: ["coder", "caCertificates"]].flatMap { value -> String? in
                guard case .array(let items) = value, case .string(let text)? = items.first else { return nil }
                return text
            })
        let windows = pem.replacing("\n", with: "\r\n").replacing("MIIB", with: "\tMIIB")
        XCTAssertNoThrow(try SpecDecoder.decode(try full { $0[path: ["coder", "caCertificates"]] = .array([.string(windows)]) }))
        let escaped = diagnostics(try full { $0[path: ["coder", "caCertificates"]] = .array([.string(pem + "\u{1B}[2J")]) })
        XCTAssertEqual(escaped.map(\.path), ["coder.caCertificates[0]"])
    }

    func testControlCharactersInKeysAndValuesAreEscapedInTheReport() throws {
        let tree = try full { $0[path: ["\u{1B}[31mred"]] = .bool(true) }
        XCTAssertThrowsError(try SpecDecoder.decode(tree, source: "spec.json")) { error in
            let text = (error as! InvalidSpec).description
            XCTAssertFalse(text.unicodeScalars.contains { FieldRules.isControl($0) && $0 != "\n" }, text)
            XCTAssertTrue(text.contains("\\u{1B}[31mred: unknown field"), text)
        }
    }

    func testEmptyKeyIsNamedNotReportedAsTheWholeDocument() throws {
        let found = diagnostics(try full { $0[path: [""]] = .bool(true) })
        XCTAssertEqual(found.map(\.path), ["\"\""])
    }

    // MARK: - Where code-server binds

    func testHostNameThatStartsWith127IsNotLoopback() throws {
        for name in ["127.evil.example", "127.0.0.1.nip.io", "127.0.0.1.", "127.1", "0127.0.0.1", "127.0.0.256"] {
            XCTAssertEqual(HostPort("\(name):13337")?.isLoopback, false, name)
        }
        let found = diagnostics(try full { $0[path: ["codeServer", "bindAddress"]] = .string("127.evil.example:13337") })
        XCTAssertEqual(found.map(\.path), ["codeServer.bindAddress"])
        XCTAssertTrue(found[0].message.contains("not \"127.evil.example\""), found[0].message)
    }

    func testLoopbackIsTheWhole127NetworkIPv6LoopbackAndLocalhost() {
        for address in ["127.0.0.1:1", "127.255.255.254:1", "[::1]:1", "[0:0:0:0:0:0:0:1]:1", "[0::1]:1", "localhost:1", "LocalHost:1"] {
            XCTAssertEqual(HostPort(address)?.isLoopback, true, address)
        }
        for address in ["0.0.0.0:1", "128.0.0.1:1", "[::]:1", "[::ffff:127.0.0.1]:1", "[::2]:1", "10.0.0.1:1", "localhost.evil.example:1"] {
            XCTAssertEqual(HostPort(address)?.isLoopback, false, address)
        }
    }

    func testCodeServerOnLoopbackLiteralsAndLocalhostNeedsNoPassword() throws {
        for address in ["[::1]:13337", "localhost:13337", "127.0.0.2:13337"] {
            XCTAssertNoThrow(try SpecDecoder.decode(try full { $0[path: ["codeServer", "bindAddress"]] = .string(address) }), address)
        }
    }

    func testCodeServerOnAnyAddressWithAPasswordIsAccepted() throws {
        let spec = try SpecDecoder.decode(
            try full {
                $0[path: ["codeServer", "bindAddress"]] = .string("[2001:db8::5]:8080")
                $0[path: ["codeServer", "auth"]] = .string("password")
                $0[path: ["codeServer", "hashedPassword"]] = .string("$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo")
            })
        XCTAssertEqual(spec.codeServer.port, 8080)
    }

    func testPortIsDecimalDigitsOnly() {
        for text in ["127.0.0.1:+80", "127.0.0.1:-1", "127.0.0.1: 80", "127.0.0.1:0x50", "127.0.0.1:000080", "127.0.0.1:65536", "[::1]80"] {
            XCTAssertNil(HostPort(text), text)
        }
        XCTAssertEqual(HostPort("127.0.0.1:08"), HostPort(host: "127.0.0.1", port: 8))
    }

    // MARK: - The agent's debug server

    func testAgentDebugPortClashesWithCodeServerPort() throws {
        let found = diagnostics(try full { $0[path: ["codeServer", "bindAddress"]] = .string("127.0.0.1:\(CoderSettings.agentDebugAddress.port)") })
        XCTAssertEqual(found.map(\.path), ["codeServer.bindAddress"])
        XCTAssertTrue(found[0].message.contains("CODER_AGENT_DEBUG_ADDRESS"), found[0].message)
    }

    func testAgentDebugPortIsFreeWithoutACoderSection() throws {
        let spec = try SpecDecoder.decode(
            try full {
                $0[path: ["coder"]] = nil
                $0[path: ["readiness", "required"]] = nil
                $0[path: ["ssh", "port"]] = .int(2113)
            })
        XCTAssertEqual(spec.ssh.port, 2113)
    }

    func testAgentDebugAddressIsTheLoopbackPortTheAgentDocuments() {
        XCTAssertEqual(CoderSettings.agentDebugAddress, HostPort("127.0.0.1:2113"))
        XCTAssertTrue(CoderSettings.agentDebugAddress.isLoopback)
    }

    // MARK: - Downloads over plain http://

    func testPlainHttpCodeServerDownloadWithoutPinIsRefused() throws {
        let found = diagnostics(
            try full {
                $0[path: ["codeServer", "downloadURL"]] = .string("http://mirror.internal/code-server-{version}-linux-{arch}.tar.gz")
                $0[path: ["codeServer", "sha256"]] = nil
            })
        XCTAssertEqual(found.map(\.path), ["codeServer.downloadURL"])
        XCTAssertTrue(found[0].hint?.contains("https://") == true && found[0].hint?.contains("codeServer.sha256") == true, "\(found)")
    }

    func testPlainHttpCodeServerDownloadWithOnePinIsAcceptedAndTheOtherArchitectureRefusedAtRunTime() throws {
        let spec = try SpecDecoder.decode(
            try full {
                $0[path: ["codeServer", "downloadURL"]] = .string("http://mirror.internal/code-server-{version}-linux-{arch}.tar.gz")
            })
        XCTAssertEqual(spec.codeServer.sha256.keys.sorted(), ["amd64"])
        XCTAssertNil(spec.codeServer.unpinnedDownloadRefusal(arch: .amd64))
        let refusal = try XCTUnwrap(spec.codeServer.unpinnedDownloadRefusal(arch: .arm64))
        XCTAssertTrue(refusal.contains("codeServer.sha256.arm64"), refusal)
    }

    func testHttpsCodeServerDownloadNeedsNoPin() throws {
        let spec = try SpecDecoder.decode(try full { $0[path: ["codeServer", "sha256"]] = nil })
        XCTAssertNil(spec.codeServer.unpinnedDownloadRefusal(arch: .arm64))
    }

    func testPlainHttpDownloadURLIsIrrelevantWhenCodeServerIsBakedInOrOff() throws {
        for change: (inout JSONValue) -> Void in [
            { $0[path: ["codeServer", "installedPath"]] = .string("/usr/lib/code-server") },
            {
                $0[path: ["codeServer", "enabled"]] = .bool(false)
                $0[path: ["readiness", "required"]] = nil
            },
        ] {
            XCTAssertNoThrow(
                try SpecDecoder.decode(
                    try full {
                        $0[path: ["codeServer", "downloadURL"]] = .string("http://mirror.internal/{version}/{arch}.tar.gz")
                        $0[path: ["codeServer", "sha256"]] = nil
                        change(&$0)
                    }))
        }
    }

    func testPlainHttpPackageWithoutDigestIsRefusedAndWithOneAccepted() throws {
        let url = JSONValue.string("http://downloads.example.com/coder-vm-bootstrap_0.1.0_amd64.deb")
        XCTAssertEqual(
            diagnostics(
                try full {
                    $0[path: ["install", "packageURL"]] = url
                    $0[path: ["install", "sha256"]] = nil
                }
            ).map(\.path),
            ["install.packageURL"])
        XCTAssertNoThrow(try SpecDecoder.decode(try full { $0[path: ["install", "packageURL"]] = url }))
    }

    func testPlainHttpAgentURLIsAllowed() throws {
        // The agent binary is checked against the server's ETag and by running it as the user.
        let spec = try SpecDecoder.decode(try full())
        XCTAssertEqual(spec.coder?.effectiveAgentURL, "http://coder.coder.svc.cluster.local/")
    }

    // MARK: - downloads

    func testDownloadLimitsDefaultWhenTheSectionIsAbsent() throws {
        let spec = try SpecDecoder.decode(try full())
        XCTAssertEqual(spec.downloads, DownloadLimits(maxBytes: 2_147_483_648, attemptTimeout: 1800))
    }

    func testDownloadLimitsAtTheirBoundsAreAccepted() throws {
        for (bytes, seconds) in [(1 << 20, 10), (64 << 30, 86400)] {
            let spec = try SpecDecoder.decode(
                try full { $0[path: ["downloads"]] = .object(["maxBytes": .int(Int64(bytes)), "attemptTimeout": .int(Int64(seconds))]) })
            XCTAssertEqual(spec.downloads, DownloadLimits(maxBytes: bytes, attemptTimeout: seconds))
        }
    }

    func testDownloadLimitsSurviveTheRoundTripThroughJSON() throws {
        let spec = try SpecDecoder.decode(try full { $0[path: ["downloads"]] = .object(["maxBytes": .int(3 << 30)]) })
        XCTAssertEqual(try SpecDecoder.decode(json: try JSONEncoder().encode(spec)).downloads.maxBytes, 3 << 30)
    }

    // MARK: - Groups

    func testAdminGroupsWithSudoAreAccepted() throws {
        let spec = try SpecDecoder.decode(try full { $0[path: ["user", "groups"]] = .array([.string("adm"), .string("wheel"), .string("sudo")]) })
        XCTAssertEqual(spec.user.groups, ["adm", "wheel", "sudo"])
    }

    func testRootEquivalentGroupsWithoutSudoAreAContradiction() throws {
        for group in FieldRules.rootEquivalentGroups.sorted() {
            let found = diagnostics(
                try full {
                    $0[path: ["user", "sudo"]] = .bool(false)
                    $0[path: ["user", "groups"]] = .array([.string(group)])
                })
            XCTAssertEqual(found.map(\.path), ["user.groups[0]"], group)
            XCTAssertTrue(found.first?.hint?.contains("sudo: true") == true, group)
        }
    }

    func testRootGroupIsRefusedEvenWithSudo() throws {
        XCTAssertEqual(diagnostics(try full { $0[path: ["user", "groups"]] = .array([.string("root")]) }).map(\.path), ["user.groups[0]"])
    }

    // MARK: - Sizes and shapes

    func testSpecLargerThanOneMiBIsRefusedBeforeParsing() {
        // Not JSON at all: had it been parsed, the message would say so.
        let found = diagnostics(json: String(repeating: "x", count: SpecDecoder.maximumDocumentBytes + 1))
        XCTAssertEqual(found.map(\.path), [""])
        XCTAssertTrue(found[0].message.hasPrefix("is larger than 1 MiB"), found[0].message)
    }

    func testSpecFileOf100MBIsRefusedAfterReadingOneMiB() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("huge-spec-\(UUID().uuidString).json")
        XCTAssertTrue(FileManager.default.createFile(atPath: file.path, contents: nil, attributes: [.posixPermissions: 0o600]))
        defer { try? FileManager.default.removeItem(at: file) }
        let handle = try FileHandle(forWritingTo: file)
        try handle.truncate(atOffset: 100_000_000)  // sparse: 100 MB of NULs that take no disk
        try handle.close()
        XCTAssertThrowsError(try SpecFile.load(path: file.path)) { error in
            guard case .invalid(let invalid) = error as! SpecFile.LoadError else { return XCTFail("\(error)") }
            XCTAssertEqual(invalid.diagnostics.map(\.message), ["is larger than 1 MiB (1048576 bytes), the most a spec may be"])
        }
        XCTAssertEqual(
            try SpecFile.contents(of: file.path, limit: SpecDecoder.maximumDocumentBytes + 1).count,
            SpecDecoder.maximumDocumentBytes + 1)
    }

    func testSpecPathThatIsAFIFOIsRefusedWithoutBlocking() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("spec-fifo-\(UUID().uuidString)").path
        XCTAssertEqual(mkfifo(path, 0o600), 0)
        defer { unlink(path) }
        XCTAssertThrowsError(try SpecFile.load(path: path)) { error in
            XCTAssertEqual((error as! SpecFile.LoadError).description, "\(path) is not a regular file")
        }
    }

    func testKeyGivenTwiceIsRefusedAtItsPathHoweverItIsSpelt() throws {
        let good = String(decoding: try JSONEncoder().encode(try full()), as: UTF8.self)
        // Most readers would take the last copy (password); JSONDecoder would silently take none.
        let twice = good.replacing(#""auth":"none""#, with: #""auth":"none","\u0061uth":"password""#)
        XCTAssertNotEqual(twice, good)
        let found = diagnostics(json: twice)
        XCTAssertEqual(found.map(\.path), ["codeServer.auth"])
        XCTAssertEqual(found.first?.message, "appears more than once in its mapping")
    }

    func testBracesAndQuotesInsideStringsDoNotConfuseTheDuplicateScan() {
        let json = #"{"a": "{\"b\": 1, \"b\": 2}", "list": [{"x": 1}, {"x": 2}], "k\"": 1, "k": 2, "s": {"😀": 1, "\ud83d\ude00": 2}}"#
        XCTAssertEqual(JSONDuplicateKeys.paths(in: Data(json.utf8)), ["s.😀"])
    }

    func testDeeplyNestedSettingsAreRefusedWithoutCrashing() throws {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        let good = String(decoding: try JSONEncoder().encode(try full()), as: UTF8.self)
        let found = diagnostics(json: good.replacing(#""settings":{"#, with: #""settings":{"deep":\#(deep),"#))
        XCTAssertEqual(found.map(\.message), ["not valid JSON"])
        var nested = JSONValue.bool(true)
        for _ in 0..<100 { nested = .array([nested]) }
        XCTAssertNoThrow(try SpecDecoder.decode(try full { $0[path: ["codeServer", "settings", "nested"]] = nested }))
    }

    func testExtensionWithAVersionIsAccepted() throws {
        let spec = try SpecDecoder.decode(
            try full { $0[path: ["codeServer", "extensions"]] = .array([.string("ms-python.python@2024.1.0"), .string("2gua.rainbow-brackets")]) })
        XCTAssertEqual(spec.codeServer.extensions.count, 2)
    }

    func testTwoHundredFiftySixEntriesAreAllowed() throws {
        let keys = (0..<256).map { JSONValue.string("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGtJ/5v/uTFwU/XxE3XpVYH1+q1ZHCgX0w8Q8NCXyxjx key\($0)") }
        XCTAssertEqual(try SpecDecoder.decode(try full { $0[path: ["user", "sshAuthorizedKeys"]] = .array(keys) }).user.sshAuthorizedKeys.count, 256)
    }
}
