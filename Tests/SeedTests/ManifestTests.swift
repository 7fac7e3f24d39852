import Foundation
import WorkspaceSpec
import XCTest
import Yams

@testable import Seed

final class ManifestTests: XCTestCase {
    func testObjectsReferToEachOtherByTheirNames() throws {
        let spec = try SpecFixtures.spec(try SpecFixtures.example("full.yaml"))
        let context = try SpecFixtures.context(spec)
        let documents = try WorkspaceManifests.all(context)
        XCTAssertEqual(documents.map { $0["kind"] }, ["Secret", "DataVolume", "VirtualMachine", "Service"])
        let (secret, dataVolume, vm, service) = (documents[0], documents[1], documents[2], documents[3])

        XCTAssertEqual(secret.at(["metadata", "name"]), "coder-alice-dev-cloudinit")
        XCTAssertEqual(dataVolume.at(["metadata", "name"]), "coder-alice-dev-root")
        XCTAssertEqual(vm.at(["metadata", "name"]), "coder-alice-dev")
        XCTAssertEqual(service.at(["metadata", "name"]), "coder-alice-dev")
        for document in documents {
            XCTAssertEqual(document.at(["metadata", "namespace"]), "coder-workspaces")
            let labels = try XCTUnwrap(document.at(["metadata", "labels"]))
            XCTAssertEqual(labels["com.coder.resource"], "true")
            XCTAssertEqual(labels["com.coder.workspace.id"], .string(spec.workspace.id))
            XCTAssertEqual(labels["com.coder.workspace.name"], "dev")
            XCTAssertEqual(labels["com.coder.user.username"], "alice")
            XCTAssertEqual(labels["app.kubernetes.io/name"], "coder-workspace")
            XCTAssertEqual(labels["app.kubernetes.io/managed-by"], "coder-vm-seed")
        }

        let podSpec = try XCTUnwrap(vm.at(["spec", "template", "spec"]))
        let volumes = try XCTUnwrap(podSpec["volumes"])
        guard case .list(let volumeList) = volumes else { return XCTFail() }
        XCTAssertEqual(volumeList[0]["dataVolume"]?["name"], "coder-alice-dev-root")
        XCTAssertEqual(volumeList[1].at(["cloudInitNoCloud", "secretRef", "name"]), "coder-alice-dev-cloudinit")
        XCTAssertEqual(podSpec.at(["readinessProbe", "httpGet", "port"]), .int(13380))
        XCTAssertEqual(podSpec.at(["readinessProbe", "httpGet", "path"]), "/readyz")
        XCTAssertEqual(podSpec.at(["domain", "cpu", "cores"]), .int(2))
        XCTAssertEqual(podSpec.at(["domain", "resources", "requests", "memory"]), "4Gi")
        guard case .list(let interfaces)? = podSpec.at(["domain", "devices", "interfaces"]),
            case .list(let networks)? = podSpec["networks"]
        else { return XCTFail() }
        XCTAssertEqual(interfaces[0]["masquerade"], .mapping([]))
        XCTAssertEqual(networks[0]["pod"], .mapping([]))
        XCTAssertEqual(interfaces[0]["name"], networks[0]["name"])

        // The Service selects the label the VM's template puts on its pod.
        let selector = try XCTUnwrap(service.at(["spec", "selector"]))
        XCTAssertEqual(selector, .object([("kubevirt.io/vm", YAMLValue.string("coder-alice-dev"))]))
        XCTAssertEqual(vm.at(["spec", "template", "metadata", "labels", "kubevirt.io/vm"]), "coder-alice-dev")
        XCTAssertEqual(service.at(["spec", "clusterIP"]), "None")

        XCTAssertEqual(dataVolume.at(["spec", "source", "http", "url"]), .string(DistributionPreset.default.imageURL))
        XCTAssertEqual(dataVolume.at(["spec", "storage", "resources", "requests", "storage"]), "16Gi")

        // The Secret holds exactly the user-data, base64 in `data`.
        guard case .string(let encoded)? = secret.at(["data", "userdata"]) else { return XCTFail() }
        XCTAssertEqual(String(decoding: try XCTUnwrap(Data(base64Encoded: encoded)), as: UTF8.self), try CloudConfig.render(context))
        XCTAssertEqual(secret["type"], "Opaque")
        XCTAssertNil(secret["stringData"])
    }

    func testOptionsChangeSizeDiskSourceAndRunStrategy() throws {
        let spec = try SpecFixtures.spec(try SpecFixtures.example("minimal.yaml"))
        let context = try SpecFixtures.context(spec) {
            $0.cpuCores = 8
            $0.memory = "16Gi"
            $0.diskSize = "100Gi"
            $0.storageClass = "fast-ssd"
            $0.accessMode = "ReadWriteMany"
            $0.rootDisk = .pvc(namespace: "images", name: "debian-golden")
            $0.runStrategy = .halted
        }
        let vm = VirtualMachineRenderer.render(context)
        let dataVolume = DataVolumeRenderer.render(context)
        XCTAssertEqual(vm.at(["spec", "runStrategy"]), "Halted")
        XCTAssertEqual(vm.at(["spec", "template", "spec", "domain", "cpu", "cores"]), .int(8))
        XCTAssertEqual(vm.at(["spec", "template", "spec", "domain", "resources", "requests", "memory"]), "16Gi")
        XCTAssertEqual(dataVolume.at(["spec", "source", "pvc"]), .object([("namespace", "images"), ("name", "debian-golden")]))
        XCTAssertEqual(dataVolume.at(["spec", "storage", "storageClassName"]), "fast-ssd")
        XCTAssertEqual(dataVolume.at(["spec", "storage", "accessModes"]), ["ReadWriteMany"])
        XCTAssertEqual(dataVolume.at(["spec", "storage", "resources", "requests", "storage"]), "100Gi")
    }

    /// For clusters whose pod network cannot reach the VM: the same probe
    /// timings, asked inside the guest through qemu-guest-agent.
    func testExecProbeAsksTheDaemonThroughTheGuestAgentInsteadOfHTTP() throws {
        let spec = try SpecFixtures.spec(try SpecFixtures.example("full.yaml"))
        let http = try XCTUnwrap(
            VirtualMachineRenderer.render(try SpecFixtures.context(spec))
                .at(["spec", "template", "spec", "readinessProbe"]))
        let exec = try XCTUnwrap(
            VirtualMachineRenderer.render(try SpecFixtures.context(spec) { $0.readinessProbe = .exec })
                .at(["spec", "template", "spec", "readinessProbe"]))
        XCTAssertEqual(exec["exec"], .object([("command", ["coder-vm-bootstrap", "status", "--probe"])]))
        XCTAssertNil(exec["httpGet"])
        XCTAssertNotNil(http["httpGet"])
        XCTAssertNil(http["exec"])
        guard case .mapping(let httpFields) = http, case .mapping(let execFields) = exec else { return XCTFail() }
        XCTAssertEqual(Array(httpFields.dropFirst()), Array(execFields.dropFirst()), "the same delays and thresholds")
        XCTAssertEqual(execFields.first?.key, "exec")
    }

    func testBadOptionsAreRejectedTogether() throws {
        let spec = try SpecFixtures.spec(try SpecFixtures.example("minimal.yaml"))
        XCTAssertThrowsError(
            try SpecFixtures.context(spec) {
                $0.cpuCores = 0
                $0.memory = "4 GB"
                $0.namespace = "Bad_NS"
                $0.accessMode = "RWO"
                $0.rootDisk = .http(url: "ftp://x/y.img")
            }
        ) { error in
            guard case SeedError.invalidOption(let message) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(message.split(separator: "\n").count, 5, message)
        }
        XCTAssertThrowsError(try RootDiskSource.pvc("a/b/c"))
        XCTAssertEqual(try RootDiskSource.pvc("golden"), .pvc(namespace: nil, name: "golden"))
    }

    func testServicePortsFollowTheSpec() throws {
        let variants = try SpecFixtures.variants()
        let plain = try SpecFixtures.spec(variants.first { $0.name == "plain-vm" }!.yaml)
        XCTAssertEqual(
            ServiceRenderer.render(try SpecFixtures.context(plain)).at(["spec", "ports"]),
            [ServiceRenderer.port("readiness", 9100)])
        let custom = try SpecFixtures.spec(variants.first { $0.name == "explicit-hostname" }!.yaml)
        XCTAssertEqual(
            ServiceRenderer.render(try SpecFixtures.context(custom)).at(["spec", "ports"]),
            [ServiceRenderer.port("ssh", 2222), ServiceRenderer.port("readiness", 9000)])
    }

    func testSecretOverOneMebibyteNamesTheBigFields() throws {
        var spec = try SpecFixtures.spec(try SpecFixtures.example("minimal.yaml"))
        spec.codeServer.settings["huge"] = .string(String(repeating: "x", count: 1_100_000))
        XCTAssertThrowsError(try SecretRenderer.render(try SpecFixtures.context(spec))) { error in
            guard case SeedError.secretTooLarge(let bytes, let fields) = error else { return XCTFail("\(error)") }
            XCTAssertGreaterThan(bytes, SecretRenderer.maximumSize)
            XCTAssertEqual(fields.first?.path, "codeServer.settings")
            XCTAssertTrue("\(error)".contains("codeServer.settings"))
            XCTAssertEqual((error as! SeedError).exitCode, 78)
        }
        spec.codeServer.settings["huge"] = .string(String(repeating: "x", count: 900_000))
        XCTAssertNoThrow(try SecretRenderer.render(try SpecFixtures.context(spec)))
    }
}
