import BootstrapTestKit
import Foundation
import XCTest

/// The daemon's command line as systemd and people use it: the built binary, real files.
final class CommandLineTests: XCTestCase {
    private var daemon: URL { BuiltDaemon.url }

    private func run(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = daemon
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    private func specFile(_ json: String, mode: Int = 0o600) throws -> String {
        let path = NSTemporaryDirectory() + "spec-\(UUID().uuidString).json"
        try json.write(toFile: path, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
        return path
    }

    func testValidSpecPassesWithExitZero() throws {
        let example = repositoryRoot.appendingPathComponent("examples/specs/full.json").path
        let copy = try specFile(String(contentsOfFile: example, encoding: .utf8))
        let result = try run(["check-config", copy])
        XCTAssertEqual(result.status, 0, result.output)
        XCTAssertTrue(result.output.contains("valid; components: user ssh docker code-server agent"), result.output)
    }

    func testInvalidSpecExits78WithEveryFieldPath() throws {
        let path = try specFile(
            #"{"apiVersion": "coder-vm-bootstrap/v1", "workspace": {"owner": "Alice", "name": "dev", "id": "x"}, "user": {"name": "Bob"}, "codeServer": {"bindAddress": "0.0.0.0:13337"}}"#
        )
        let result = try run(["check-config", path])
        XCTAssertEqual(result.status, 78, result.output)
        for field in ["workspace.owner", "user.name", "codeServer.bindAddress"] {
            XCTAssertTrue(result.output.contains("\(field):"), "\(field) missing in \(result.output)")
        }
    }

    func testTokenInAFileOthersCanReadIsRejected() throws {
        let example = try String(contentsOfFile: repositoryRoot.appendingPathComponent("examples/specs/full.json").path, encoding: .utf8)
        let path = try specFile(example, mode: 0o644)
        let result = try run(["check-config", path])
        XCTAssertEqual(result.status, 78, result.output)
        XCTAssertTrue(result.output.contains("coder.token:") && result.output.contains("chmod 600"), result.output)
        XCTAssertFalse(result.output.contains("6f1d2c3b-4a59-4b43-9a3e-0b6f6c1e93f4"), "the token itself must not be printed")
    }

    func testMissingSpecExits66() throws {
        XCTAssertEqual(try run(["check-config", "/nonexistent/spec.json"]).status, 66)
    }

    func testHelpDoesNotShowTheFetchWorker() throws {
        let result = try run(["--help"])
        XCTAssertEqual(result.status, 0, result.output)
        XCTAssertTrue(result.output.contains("check-config"), result.output)
        XCTAssertFalse(result.output.contains("fetch-worker"), "internal, started by the daemon only: \(result.output)")
    }

    func testVersionPrintsTheRelease() throws {
        let result = try run(["--version"])
        XCTAssertEqual(result.status, 0)
        XCTAssertEqual(result.output.trimmingCharacters(in: .whitespacesAndNewlines), "0.1.0")
    }
}

/// The repository root, for the example specs.
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
