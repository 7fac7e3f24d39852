import Foundation
import XCTest

@testable import WorkspaceSpec

/// The repository root, for the example specs under examples/specs.
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

func exampleJSON(_ name: String) throws -> JSONValue {
    let data = try Data(contentsOf: repositoryRoot.appendingPathComponent("examples/specs/\(name)"))
    return try JSONDecoder().decode(JSONValue.self, from: data)
}

final class SpecDecodingTests: XCTestCase {
    func testFullExampleDecodesWithEveryFieldSet() throws {
        let spec = try SpecDecoder.decode(try exampleJSON("full.json"))
        XCTAssertEqual(spec.workspace.resourceName, "coder-alice-dev")
        XCTAssertEqual(spec.user.groups, ["adm"])
        XCTAssertEqual(spec.coder?.effectiveAgentURL, "http://coder.coder.svc.cluster.local/")
        XCTAssertEqual(spec.coder?.proxy?.noProxy, ["localhost", "127.0.0.1", ".svc.cluster.local"])
        XCTAssertEqual(spec.coder?.agentHeaders, ["X-Tenant": "alice"])
        XCTAssertEqual(spec.codeServer.settings["editor.fontSize"], .int(14))
        XCTAssertEqual(spec.readiness.required, [.ssh, .docker, .codeServer, .agent])
        XCTAssertEqual(
            spec.codeServer.downloadURL(arch: .arm64),
            "https://github.com/coder/code-server/releases/download/v4.96.4/code-server-4.96.4-linux-arm64.tar.gz")
    }

    func testMinimalSpecGetsDefaultsForEverythingElse() throws {
        let spec = try SpecDecoder.decode(
            .object([
                "apiVersion": .string(WorkspaceSpec.currentAPIVersion),
                "workspace": .object(["owner": .string("alice"), "name": .string("dev"), "id": .string("abc-123")]),
                "user": .object(["name": .string("coder")]),
            ]))
        XCTAssertEqual(spec.hostname, "coder-alice-dev")
        XCTAssertEqual(spec.user.shell, "/bin/bash")
        XCTAssertTrue(spec.user.sudo)
        XCTAssertNil(spec.coder)
        XCTAssertEqual(spec.codeServer.bindAddress, "127.0.0.1:13337")
        XCTAssertEqual(spec.ssh, SSHSettings(enabled: true, port: 22, passwordAuthentication: false, permitRootLogin: false))
        XCTAssertEqual(spec.enabledComponents, [.user, .ssh, .docker, .codeServer])
        XCTAssertEqual(spec.requiredComponents, [.user, .ssh, .docker, .codeServer])
    }

    func testEncodedSpecDecodesToTheSameSpec() throws {
        let spec = try SpecDecoder.decode(try exampleJSON("full.json"))
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        XCTAssertEqual(try SpecDecoder.decode(json: try encoder.encode(spec)), spec)
    }

    func testEveryProblemIsReportedAtOnce() throws {
        var tree = try exampleJSON("full.json")
        tree[path: ["user", "name"]] = .string("Bob")
        tree[path: ["ssh", "port"]] = .int(70000)
        tree[path: ["extra"]] = .bool(true)
        XCTAssertThrowsError(try SpecDecoder.decode(tree)) { error in
            let paths = (error as! InvalidSpec).diagnostics.map(\.path)
            XCTAssertEqual(Set(paths), ["user.name", "ssh.port", "extra"])
        }
    }

    func testYAMLGivenToTheDaemonPointsAtTheCompanion() throws {
        let yaml = try Data(contentsOf: repositoryRoot.appendingPathComponent("examples/specs/minimal.yaml"))
        XCTAssertThrowsError(try SpecDecoder.decode(json: yaml, source: "spec.yaml")) { error in
            let text = (error as! InvalidSpec).description
            XCTAssertTrue(text.contains("coder-vm-seed check-config"), text)
        }
    }
}

extension JSONValue {
    /// Test helper: reads or replaces (nil removes) the value at a key path.
    subscript(path keys: [String]) -> JSONValue? {
        get {
            guard let key = keys.first, case .object(let fields) = self else { return self }
            return keys.count == 1 ? fields[key] : fields[key]?[path: Array(keys.dropFirst())]
        }
        set {
            guard let key = keys.first, case .object(var fields) = self else { return }
            if keys.count == 1 { fields[key] = newValue } else { fields[key]?[path: Array(keys.dropFirst())] = newValue }
            self = .object(fields)
        }
    }
}
