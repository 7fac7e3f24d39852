import Foundation
import HostSystem
import WorkspaceSpec
import XCTest

@testable import Bootstrap

/// The spec a warm boot starts from before cloud-init delivers this boot's.
final class LastBootSpecTests: XCTestCase {
    private var paths = Paths()

    override func setUpWithError() throws {
        let root = NSTemporaryDirectory() + "last-boot-\(UUID().uuidString)"
        paths = Paths(root: root)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: root) }
    }

    func testTheTokenIsNeverKeptForTheNextBoot() throws {
        let spec = WorkspaceSpec(
            workspace: .init(owner: "alice", name: "dev", id: "1"), user: .init(name: "coder"),
            coder: .init(accessURL: "https://coder.example.com/", token: "secret-token-of-this-build"))
        try LastBootSpec.save(spec, paths: paths)
        let kept = try String(contentsOfFile: paths.lastBootSpec, encoding: .utf8)
        XCTAssertFalse(kept.contains("secret-token-of-this-build"))
        let mode = try FileManager.default.attributesOfItem(atPath: paths.lastBootSpec)[.posixPermissions] as? Int
        XCTAssertEqual(mode, 0o600)
        let loaded = try XCTUnwrap(LastBootSpec.load(paths: paths))
        XCTAssertEqual(loaded.codeServer, spec.codeServer, "what needs no secret is kept as it was")
        XCTAssertNotEqual(loaded.coder?.token, spec.coder?.token)
    }

    func testNoKeptSpecMeansAFirstBoot() {
        XCTAssertNil(LastBootSpec.load(paths: paths))
    }

    func testTheArrivalOfThisBootsSpecEndsTheWait() async throws {
        let folder = try Directory.system(paths.runtime, creating: .init())
        let path = paths.runtime + "/spec.json"
        let waiting = Task { try await BootSpecArrival.wait(for: path) }
        // As cloud-init's bootcmd writes it: a temporary file renamed into place.
        try folder.writeFile("spec.json", text: "{}")
        try await waiting.value
    }

    func testWaitingForTheSpecEndsWhenCancelled() async throws {
        _ = try Directory.system(paths.runtime, creating: .init())
        let path = paths.runtime + "/spec.json"
        let waiting = Task { try await BootSpecArrival.wait(for: path) }
        waiting.cancel()
        do {
            try await waiting.value
            XCTFail("no spec arrived: the wait ends only by cancellation")
        } catch is CancellationError {}
    }
}
