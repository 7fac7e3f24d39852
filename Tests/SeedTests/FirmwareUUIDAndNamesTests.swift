import Foundation
import WorkspaceSpec
import XCTest

@testable import Seed

final class FirmwareUUIDAndNamesTests: XCTestCase {
    func testVersion5MatchesTheRFCAlgorithm() {
        // Python: uuid.uuid5(uuid.NAMESPACE_DNS, "python.org")
        let dns = UUID(uuidString: "6ba7b810-9dad-11d1-80b4-00c04fd430c8")!
        XCTAssertEqual(
            FirmwareUUID.nameBased(namespace: dns, name: "python.org").uuidString.lowercased(),
            "886313e1-3b8a-5372-9b90-0c9aee199e5d")
    }

    func testFirmwareUUIDIsStablePerWorkspaceAndDiffersBetweenThem() {
        let id = "0b6f6c1e-93f4-4b43-9a3e-6f1d2c3b4a59"
        let uuid = FirmwareUUID.forWorkspace(id: id)
        XCTAssertEqual(uuid, FirmwareUUID.forWorkspace(id: id))
        XCTAssertEqual(uuid, FirmwareUUID.forWorkspace(id: id.uppercased()))
        XCTAssertNotEqual(uuid, FirmwareUUID.forWorkspace(id: "0b6f6c1e-93f4-4b43-9a3e-6f1d2c3b4a5a"))
        XCTAssertEqual(Array(uuid)[14], "5")  // version nibble
        XCTAssertTrue("89ab".contains(Array(uuid)[19]))  // RFC variant
        XCTAssertEqual(uuid, uuid.lowercased())
    }

    func testFirmwareUUIDIsInTheVMAndSurvivesHaltedRendering() throws {
        let spec = try SpecFixtures.spec(try SpecFixtures.example("minimal.yaml"))
        let running = VirtualMachineRenderer.render(try SpecFixtures.context(spec))
        let halted = VirtualMachineRenderer.render(try SpecFixtures.context(spec) { $0.runStrategy = .halted })
        let path = ["spec", "template", "spec", "domain", "firmware", "uuid"]
        XCTAssertEqual(running.at(path), .string(FirmwareUUID.forWorkspace(id: spec.workspace.id)))
        XCTAssertEqual(running.at(path), halted.at(path))
        XCTAssertEqual(running.at(["spec", "runStrategy"]), "Always")
        XCTAssertEqual(halted.at(["spec", "runStrategy"]), "Halted")
    }

    func testNamesFollowTheSeedTemplate() throws {
        let names = ResourceNames(WorkspaceIdentity(owner: "alice", name: "dev", id: "x1"))
        XCTAssertEqual(names.virtualMachine, "coder-alice-dev")
        XCTAssertEqual(names.service, "coder-alice-dev")
        XCTAssertEqual(names.secret, "coder-alice-dev-cloudinit")
        XCTAssertEqual(names.dataVolume, "coder-alice-dev-root")
    }

    func testLongNamesAreShortenedUniquelyAndStably() throws {
        let workspace = WorkspaceIdentity(owner: String(repeating: "o", count: 40), name: String(repeating: "n", count: 40), id: "id-1")
        let names = ResourceNames(workspace)
        XCTAssertEqual(names.base.count, 63)
        XCTAssertTrue(names.base.hasPrefix("coder-oooo"))
        XCTAssertEqual(names, ResourceNames(workspace))
        var other = workspace
        other.id = "id-2"
        XCTAssertNotEqual(names.base, ResourceNames(other).base)
        XCTAssertTrue(KubernetesName.isLabel(names.base))

        // The default host name is shortened the same way; an explicit one is kept.
        let spec = try SpecFixtures.spec(try SpecFixtures.variants().first { $0.name == "long-names" }!.yaml)
        let context = try SpecFixtures.context(spec)
        XCTAssertEqual(context.spec.hostname, context.names.base)
        XCTAssertLessThanOrEqual(context.spec.hostname.count, 63)
    }

    func testWorkspaceIDMustBeALabelValue() throws {
        var spec = try SpecFixtures.spec(try SpecFixtures.example("minimal.yaml"))
        spec.workspace.id = "-" + String(repeating: "a", count: 70)
        XCTAssertThrowsError(try SpecFixtures.context(spec)) { error in
            guard case SeedError.invalidSpec(let invalid) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(invalid.diagnostics.map(\.path), ["workspace.id"])
        }
    }
}

extension YAMLValue {
    func at(_ path: [String]) -> YAMLValue? {
        path.reduce(Optional(self)) { $0?[$1] }
    }
}
