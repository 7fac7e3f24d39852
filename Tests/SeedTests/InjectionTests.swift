import Foundation
import WorkspaceSpec
import XCTest
import Yams

@testable import Seed

/// Hostile text in every string field the spec's validator lets through
/// must stay data: the YAML keeps its structure, cloud-init's schema still
/// passes, and the spec comes back out byte for byte (through Yams, through
/// PyYAML as cloud-init reads it, and by running the bootcmd as cloud-init does).
final class InjectionTests: XCTestCase {
    static let hostile: [String] = [
        "plain\nnewline",
        "---",
        "\n---\nkind: Secret\n...\n",
        "!!python/object/apply:os.system [\"x\"]",
        "'single' \"double\" `back` \\backslash \\n",
        "# not a comment",
        "key: value",
        "- item",
        "\nCODER_VM_SPEC\n",
        "CODER_VM_SPEC",
        "x\nCODER_VM_SPEC\nmv -f /dev/null /etc/passwd\n",
        "é 中文 🙂 \u{2028}split\u{2029}para\u{85}nel \u{200B}zw \u{FEFF}bom",
        "$(reboot) ${HOME} `id` && rm -rf / ; | >",
        "{\"a\": [1, 2]} [x] {y}",
        "&anchor *alias ? | > % @ ,",
        "\t tab and trailing space ",
        "\r\ncrlf\r",
        "\u{7F}del \u{1B}[31mescape",
        "<<: *x",
        "%YAML 1.2",
    ]

    /// The full example with `text` (adapted to what each field allows) in
    /// every free-text field.
    static func hostileTree(_ text: String) throws -> JSONValue {
        // The validator refuses control characters everywhere but in PEM (line breaks and tabs there).
        func withoutControls(_ text: String, keeping kept: Set<Unicode.Scalar> = []) -> String {
            let refused: Set<Unicode.GeneralCategory> = [.control, .format, .lineSeparator, .paragraphSeparator]
            return String(String.UnicodeScalarView(text.unicodeScalars.filter { kept.contains($0) || !refused.contains($0.properties.generalCategory) }))
        }
        let oneLine = withoutControls(String(text.map { $0.isNewline ? " " : $0 }))
        let noSpace = String(oneLine.filter { !$0.isWhitespace && $0 != "," })
        // CODER_AGENT_HEADER is one comma-separated value; NO_PROXY entries are host names or addresses; PHC hashes have their alphabet.
        let headerValue = oneLine.filter { !",\"\\".contains($0) }
        let host = noSpace.filter { $0.isASCII && ($0.isLetter || $0.isNumber || ".-:/[]*_".contains($0)) }
        let phc = noSpace.filter { $0.isASCII && ($0.isLetter || $0.isNumber || "$=,+/.-".contains($0)) }
        var tree = try SpecTreeParser.parse(try SpecFixtures.example("full.yaml"))
        let pem = try SpecFixtures.caCertificate()
        tree[keys: "user", "shell"] = .string("/bin/" + oneLine.filter { $0 != ":" })
        tree[keys: "user", "sshAuthorizedKeys"] = .array([
            .string(SpecFixtures.key + " " + oneLine),
            .string("command=\"\(oneLine.replacingOccurrences(of: "\"", with: ""))\" " + SpecFixtures.key),
        ])
        tree[keys: "coder", "token"] = .string("t" + noSpace)
        tree[keys: "coder", "agentHeaders"] = .object(["X-Tenant": .string(headerValue), "X-Other": .string("v" + headerValue)])
        let pemText = withoutControls(text, keeping: ["\n", "\r", "\t"])
        tree[keys: "coder", "caCertificates"] = .array([.string(pemText + "\n" + pem + pemText)])
        tree[keys: "coder", "proxy", "noProxy"] = .array([.string("h" + host), "localhost"])
        tree[keys: "codeServer", "installedPath"] = .string("/opt/" + oneLine)
        tree[keys: "codeServer", "auth"] = "password"
        tree[keys: "codeServer", "hashedPassword"] = .string("$argon2id$" + phc)
        tree[keys: "codeServer", "settings"] = .object([text: .string(text), "nested": .object([text: .array([.string(text)])])])
        tree[keys: "network"] = .object([
            "version": .int(2),
            "ethernets": .object([
                "eth0": .object(["dhcp4": .bool(true), "nameservers": .object(["search": .array([.string(text)])])]),
                text: .object(["match": .object(["name": .string(text)])]),
            ]),
        ])
        return tree
    }

    func testHostileStringsLeaveTheStructureAndRoundTrip() throws {
        let baseline = try structure(try CloudConfig.render(try SpecFixtures.context(try SpecFixtures.spec(try SpecFixtures.example("full.yaml")))))
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        var files: [(String, URL)] = []
        var specs: [String: WorkspaceSpec] = [:]

        for (index, text) in Self.hostile.enumerated() {
            let name = "hostile-\(index)"
            let spec: WorkspaceSpec
            do {
                spec = try SpecDecoder.decode(try Self.hostileTree(text))
            } catch {
                XCTFail("\(name) \(text.debugDescription) was rejected: \(error)")
                continue
            }
            XCTAssertEqual(spec.user.sshAuthorizedKeys.count, 2)
            let context = try SpecFixtures.context(spec)
            let userData = try CloudConfig.render(context)
            XCTAssertTrue(userData.allSatisfy(\.isASCII), "\(name): the user-data is ASCII")
            XCTAssertTrue(userData.contains("\nbootcmd:\n- |\n  umask 077"), "\(name): the bootcmd stays a literal block")
            XCTAssertEqual(try structure(userData), baseline, name)
            XCTAssertEqual(try specEmbedded(inUserData: userData), spec, name)

            // The Kubernetes stream keeps its four documents too.
            let stream = try WorkspaceManifests.yaml(try WorkspaceManifests.all(context))
            let documents = try Yams.load_all(yaml: stream).map { $0 as? [String: Any] }
            XCTAssertEqual(documents.map { $0?["kind"] as? String }, ["Secret", "DataVolume", "VirtualMachine", "Service"], name)
            let encoded = ((documents[0]?["data"] as? [String: Any])?["userdata"] as? String) ?? ""
            XCTAssertEqual(Data(base64Encoded: encoded).map { String(decoding: $0, as: UTF8.self) }, userData, name)
            let network = ((documents[0]?["data"] as? [String: Any])?["networkdata"] as? String).flatMap { Data(base64Encoded: $0) }
            XCTAssertEqual(try network.map { try SpecTreeParserForTests.load(String(decoding: $0, as: UTF8.self)) }, spec.network, name)

            let file = directory.appendingPathComponent("\(name).yaml")
            try userData.write(to: file, atomically: true, encoding: .utf8)
            files.append((name, file))
            specs[file.path] = spec
        }

        // cloud-init's view: its schema, and its YAML loader.
        let failures = try cloudInitSchemaFailures(files)
        XCTAssertEqual(failures, [], failures.joined(separator: "\n"))
        let inspected = try Validators.python("cloudinit_userdata.py", files.map(\.1.path), interpreter: "/usr/bin/python3")
        XCTAssertEqual(inspected.status, 0, inspected.stderr)
        let report = try JSONDecoder().decode([String: PythonView].self, from: inspected.stdout)
        for (path, spec) in specs {
            let view = try XCTUnwrap(report[path])
            XCTAssertEqual(view.header, "#cloud-config")
            XCTAssertEqual(view.keys, baseline.keys, path)
            XCTAssertEqual(view.counts, baseline.counts, path)
            XCTAssertEqual(view.createdUsers, .object([:]), path)
            XCTAssertEqual(try SpecDecoder.decode(json: Data(view.spec.utf8)), spec, path)
        }
    }

    /// Runs each bootcmd the way cloud-init does (shellify, /bin/sh) in a
    /// private mount namespace with its own /run.
    func testBootcmdWritesExactlyTheSpecEvenWithHostileValues() throws {
        guard (try? ProcessRunner.which("unshare")) != nil,
            (try? ProcessRunner.run("unshare", ["--mount", "--propagation", "private", "true"]))?.status == 0
        else {
            throw XCTSkip("needs root and unshare(1) for a private /run")
        }
        _ = try Validators.cloudInit()
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        var specs: [String: WorkspaceSpec] = [:]
        for (index, text) in Self.hostile.enumerated() {
            guard let spec = try? SpecDecoder.decode(try Self.hostileTree(text)) else { continue }
            let file = directory.appendingPathComponent("hostile-\(index).yaml")
            try CloudConfig.render(try SpecFixtures.context(spec)).write(to: file, atomically: true, encoding: .utf8)
            specs[file.path] = spec
        }
        let script = Paths.validators.appendingPathComponent("cloudinit_userdata.py").path
        let command = "mount -t tmpfs tmpfs /run && exec /usr/bin/python3 \(script) --run-bootcmd " + specs.keys.sorted().joined(separator: " ")
        let result = try ProcessRunner.run("unshare", ["--mount", "--propagation", "private", "sh", "-c", command])
        XCTAssertEqual(result.status, 0, result.stderr)
        let report = try JSONDecoder().decode([String: PythonView].self, from: result.stdout)
        XCTAssertEqual(report.count, Self.hostile.count)
        for (path, spec) in specs {
            let view = try XCTUnwrap(report[path], path)
            XCTAssertEqual(view.mode, "0o600", path)
            XCTAssertEqual(view.leftovers, ["spec.json"], path)
            XCTAssertEqual(try SpecDecoder.decode(json: Data(view.spec.utf8)), spec, path)
        }
    }

    struct PythonView: Decodable {
        var header: String
        var keys: [String]
        var counts: [String: Int]
        var createdUsers: JSONValue
        var spec: String
        var mode: String?
        var leftovers: [String]?
    }

    struct Structure: Equatable {
        var keys: [String]
        var counts: [String: Int]
        var bootcmdLines: Int
    }

    func structure(_ userData: String) throws -> Structure {
        let root = try XCTUnwrap(try Yams.load(yaml: userData) as? [String: Any])
        var counts: [String: Int] = [:]
        for (key, value) in root { if let list = value as? [Any] { counts[key] = list.count } }
        let bootcmd = try XCTUnwrap((root["bootcmd"] as? [String])?.first)
        return Structure(
            keys: root.keys.sorted(), counts: counts,
            bootcmdLines: bootcmd.split(separator: "\n", omittingEmptySubsequences: false).count)
    }
}
