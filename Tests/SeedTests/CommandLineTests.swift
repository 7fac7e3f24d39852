import Foundation
import WorkspaceSpec
import XCTest
import Yams

@testable import Seed

/// The built coder-vm-seed: exit codes, flags composing with files, and the
/// token never taken from argv.
final class CommandLineTests: XCTestCase {
    func testCheckConfigExitCodes() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        for example in ["minimal.yaml", "full.yaml", "full.json"] {
            let valid = try ProcessRunner.seed(["check-config", "examples/specs/\(example)"])
            XCTAssertEqual(valid.status, 0, valid.stderr)
            XCTAssertTrue(valid.output.contains("valid"), valid.output)
        }
        let fromStdin = try ProcessRunner.seed(["check-config", "-"], stdin: Data(try SpecFixtures.example("minimal.yaml").utf8))
        XCTAssertEqual(fromStdin.status, 0, fromStdin.stderr)

        let missing = try ProcessRunner.seed(["check-config", directory.appendingPathComponent("nope.yaml").path])
        XCTAssertEqual(missing.status, 66)
        XCTAssertTrue(missing.stderr.contains("does not exist"))
        let unreadable = try ProcessRunner.seed(["check-config", directory.path])
        XCTAssertEqual(unreadable.status, 66)

        let invalid = directory.appendingPathComponent("bad.yaml")
        try """
        apiVersion: coder-vm-bootstrap/v1
        workspace: {owner: alice, name: dev, id: abc}
        user: {name: Coder, shell: bash}
        ssh: {port: 0, prot: 22}
        """.write(to: invalid, atomically: true, encoding: .utf8)
        let result = try ProcessRunner.seed(["check-config", invalid.path])
        XCTAssertEqual(result.status, 78)
        for path in ["user.name:", "user.shell:", "ssh.port:", "ssh.prot: unknown field"] {
            XCTAssertTrue(result.stderr.contains(path), "\(path) in \(result.stderr)")
        }
        let syntax = try ProcessRunner.seed(["check-config", "-"], stdin: Data("user: [\n".utf8))
        XCTAssertEqual(syntax.status, 78)
        let wrongDistro = try ProcessRunner.seed(["check-config", "--distro", "arch", "examples/specs/full.yaml"])
        XCTAssertEqual(wrongDistro.status, 78)
        XCTAssertTrue(wrongDistro.stderr.contains("install.packageURL"), wrongDistro.stderr)
    }

    func testFlagsAloneMakeAWholeSpecAndTheTokenComesFromAFile() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let tokenFile = directory.appendingPathComponent("token")
        try "  secret-token-value\n".write(to: tokenFile, atomically: true, encoding: .utf8)
        let result = try ProcessRunner.seed([
            "render-secret", "--namespace", "ws", "--distro", "arch",
            "--owner", "bob", "--workspace", "box", "--workspace-id", "5c2a0f3e-0000-4000-8000-000000000001",
            "--user", "bob", "--ssh-key", SpecFixtures.key, "--ssh-key", SpecFixtures.rsaKey,
            "--access-url", "https://coder.example.com", "--agent-url", "http://coder.coder.svc/",
            "--token-file", tokenFile.path,
        ])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertFalse(result.output.contains("secret-token-value"), "the token is inside base64 only")
        let secret = try XCTUnwrap(try Yams.load(yaml: result.output) as? [String: Any])
        let encoded = try XCTUnwrap((secret["data"] as? [String: String])?["userdata"])
        let spec = try specEmbedded(inUserData: String(decoding: Data(base64Encoded: encoded)!, as: UTF8.self))
        XCTAssertEqual(spec.workspace, WorkspaceIdentity(owner: "bob", name: "box", id: "5c2a0f3e-0000-4000-8000-000000000001"))
        XCTAssertEqual(spec.user.sshAuthorizedKeys, [SpecFixtures.key, SpecFixtures.rsaKey])
        XCTAssertEqual(spec.coder?.token, "secret-token-value")
        XCTAssertEqual(spec.coder?.agentURL, "http://coder.coder.svc/")
        XCTAssertEqual((secret["metadata"] as? [String: Any])?["name"] as? String, "coder-bob-box-cloudinit")
    }

    func testFlagsOverrideAndExtendTheFile() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let keys = directory.appendingPathComponent("keys.pub")
        try "# my keys\n\(SpecFixtures.rsaKey)\n\n".write(to: keys, atomically: true, encoding: .utf8)
        let tokenFile = directory.appendingPathComponent("token")
        try "new-token".write(to: tokenFile, atomically: true, encoding: .utf8)
        let result = try ProcessRunner.seed([
            "render-spec", "examples/specs/full.yaml", "--workspace", "other",
            "--ssh-key-file", keys.path, "--token-file", tokenFile.path,
            "--install-url", "https://dl.example.com/x.tar.gz",
        ])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(result.output.filter { $0 == "\n" }.count, 1, "one line of JSON")
        let spec = try SpecDecoder.decode(json: result.stdout)
        XCTAssertEqual(spec.workspace.name, "other")
        XCTAssertEqual(spec.hostname, "coder-alice-dev", "an explicit host name in the file stays")
        XCTAssertEqual(spec.user.sshAuthorizedKeys, [SpecFixtures.key, SpecFixtures.rsaKey])
        XCTAssertEqual(spec.coder?.token, "new-token")
        XCTAssertEqual(spec.install?.packageURL, "https://dl.example.com/x.tar.gz")
        XCTAssertEqual(spec.install?.sha256, SpecFixtures.digest, "the file's digest is kept")
    }

    func testMissingFieldsNameTheirFlags() throws {
        let result = try ProcessRunner.seed(["render-secret", "--owner", "bob"])
        XCTAssertEqual(result.status, 78)
        for hint in ["--workspace", "--workspace-id", "--user"] {
            XCTAssertTrue(result.stderr.contains("give \(hint)"), "\(hint): \(result.stderr)")
        }
    }

    func testTheTokenIsNeverAFlag() throws {
        let result = try ProcessRunner.seed(["render-secret", "examples/specs/minimal.yaml", "--token", "abc"])
        XCTAssertEqual(result.status, 64)
        let help = try ProcessRunner.seed(["render-secret", "--help"])
        XCTAssertFalse(help.output.contains("--token "), help.output)
        XCTAssertTrue(help.output.contains("--token-file"))
    }

    func testRenderCommandsPrintTheirDocuments() throws {
        func kinds(_ arguments: [String]) throws -> [String] {
            let result = try ProcessRunner.seed(arguments)
            XCTAssertEqual(result.status, 0, result.stderr)
            return try Yams.load_all(yaml: result.output).compactMap { ($0 as? [String: Any])?["kind"] as? String }
        }
        XCTAssertEqual(try kinds(["render-secret", "examples/specs/minimal.yaml"]), ["Secret"])
        XCTAssertEqual(
            try kinds(["render-vm", "examples/specs/minimal.yaml", "--cpu", "4", "--halted"]),
            ["DataVolume", "VirtualMachine", "Service"])
        XCTAssertEqual(
            try kinds(["render-all", "examples/specs/full.yaml", "--distro", "ubuntu-22.04", "--namespace", "ws"]),
            ["Secret", "DataVolume", "VirtualMachine", "Service"])
        let userData = try ProcessRunner.seed(["render-userdata", "examples/specs/minimal.yaml", "--distro", "debian-12"])
        XCTAssertTrue(userData.output.hasPrefix("#cloud-config\n"))
        XCTAssertEqual(
            userData.output,
            try String(
                contentsOf: Paths.repositoryRoot.appendingPathComponent("cloud-init/user-data.example.yaml"),
                encoding: .utf8), "cloud-init/user-data.example.yaml is this output, regenerated")

        let exec = try ProcessRunner.seed(["render-vm", "examples/specs/minimal.yaml", "--readiness-probe", "exec"])
        XCTAssertEqual(exec.status, 0, exec.stderr)
        let vm = try XCTUnwrap(try Yams.load_all(yaml: exec.output).compactMap { $0 as? [String: Any] }.first { $0["kind"] as? String == "VirtualMachine" })
        let probe = (((vm["spec"] as? [String: Any])?["template"] as? [String: Any])?["spec"] as? [String: Any])?["readinessProbe"] as? [String: Any]
        XCTAssertEqual((probe?["exec"] as? [String: Any])?["command"] as? [String], ["coder-vm-bootstrap", "status", "--probe"])
        XCTAssertNil(probe?["httpGet"])
        let badProbe = try ProcessRunner.seed(["render-all", "examples/specs/minimal.yaml", "--readiness-probe", "tcp"])
        XCTAssertEqual(badProbe.status, 64)
        XCTAssertTrue(badProbe.stderr.contains("http") && badProbe.stderr.contains("exec"), badProbe.stderr)

        let halted = try ProcessRunner.seed(["render-vm", "examples/specs/minimal.yaml", "--halted"])
        XCTAssertTrue(halted.output.contains("runStrategy: Halted"))
        let conflict = try ProcessRunner.seed(["render-vm", "examples/specs/minimal.yaml", "--halted", "--run-strategy", "Always"])
        XCTAssertEqual(conflict.status, 64)
        let badOption = try ProcessRunner.seed(["render-vm", "examples/specs/minimal.yaml", "--memory", "4 GB"])
        XCTAssertEqual(badOption.status, 64)
        XCTAssertTrue(badOption.stderr.contains("memory"))
        let version = try ProcessRunner.seed(["--version"])
        XCTAssertEqual(version.output.trimmingCharacters(in: .whitespacesAndNewlines), BuildInfo.version)
    }
}
