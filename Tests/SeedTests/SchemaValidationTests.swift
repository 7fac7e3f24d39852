import Foundation
import XCTest
import WorkspaceSpec
@testable import Seed

/// The rendered documents against the schemas of their consumers:
/// cloud-init's own schema, Kubernetes' for Secret and Service, KubeVirt's
/// and CDI's for VirtualMachine and DataVolume.
final class SchemaValidationTests: XCTestCase {
    func testEveryUserDataPassesCloudInitSchemaForEveryPreset() throws {
        let cloudInit = try Validators.cloudInit()
        let matrix = try SpecFixtures.matrix()
        XCTAssertEqual(Set(matrix.map(\.preset.name)), Set(DistributionPreset.names))
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        var files: [(String, URL)] = []
        for (name, spec, preset) in matrix {
            let file = directory.appendingPathComponent("\(name).yaml")
            try CloudConfig.render(try SpecFixtures.context(spec, preset: preset)).write(to: file, atomically: true, encoding: .utf8)
            files.append((name, file))
        }
        let failures = try cloudInitSchemaFailures(cloudInit, files)
        XCTAssertEqual(failures, [], failures.joined(separator: "\n"))
    }

    func testManifestsValidateAgainstKubernetesKubeVirtAndCDISchemas() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        var paths: [String] = []
        for (name, spec, preset) in try SpecFixtures.matrix() {
            let file = directory.appendingPathComponent("\(name).yaml")
            let context = try SpecFixtures.context(spec, preset: preset)
            try WorkspaceManifests.yaml(try WorkspaceManifests.all(context)).write(to: file, atomically: true, encoding: .utf8)
            paths.append(file.path)
        }
        // And the other shapes: no namespace, a cloned golden image, halted, sized.
        let minimal = try SpecFixtures.spec(try SpecFixtures.example("minimal.yaml"))
        let shapes: [(String, (inout RenderOptions) -> Void)] = [
            ("no-namespace", { $0.namespace = nil }),
            ("clone", { $0.rootDisk = .pvc(namespace: "images", name: "golden"); $0.storageClass = "ceph-block"; $0.accessMode = "ReadWriteMany" }),
            ("halted-big", { $0.runStrategy = .halted; $0.cpuCores = 16; $0.memory = "64Gi"; $0.diskSize = "500Gi" }),
            ("image-url", { $0.rootDisk = .http(url: "https://images.example.com/custom.qcow2") }),
        ]
        for (name, configure) in shapes {
            let file = directory.appendingPathComponent("shape-\(name).yaml")
            let context = try SpecFixtures.context(minimal, configure: configure)
            try WorkspaceManifests.yaml(try WorkspaceManifests.all(context)).write(to: file, atomically: true, encoding: .utf8)
            paths.append(file.path)
        }
        XCTAssertTrue(FileManager.default.fileExists(atPath: Paths.sharedData.appendingPathComponent("kubevirt/virtualmachine.schema.json").path),
                      "shared/data is expected beside the repository: \(Paths.sharedData.path)")
        // Offline for certain where the machine allows it: no network namespace, no network.
        let result = try Validators.python("validate_manifests.py", ["--shared-data", Paths.sharedData.path] + paths,
                                           offline: true)
        XCTAssertEqual(result.status, 0, result.output + result.stderr)
        XCTAssertTrue(result.output.contains("\(paths.count * 4) valid, 0 invalid"), result.output)
    }

    func testTheValidatorsRejectBrokenManifests() throws {
        // The validators are only worth something if they can fail.
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let broken = directory.appendingPathComponent("broken.yaml")
        try """
            apiVersion: v1
            kind: Service
            metadata: {name: x}
            spec: {clusterIP: None, ports: [{port: ssh}], selectr: {a: b}}
            ---
            apiVersion: kubevirt.io/v1
            kind: VirtualMachine
            metadata: {name: x}
            spec: {runStrategy: 5, template: {spec: {domain: {devices: {}, cpu: {cores: two}}}}}
            ---
            apiVersion: cdi.kubevirt.io/v1beta1
            kind: DataVolume
            metadata: {name: x}
            spec: {source: {http: {url: 5}}, storage: {resources: {requests: {storage: 10737418240}}}}
            """.write(to: broken, atomically: true, encoding: .utf8)
        let result = try Validators.python("validate_manifests.py", ["--shared-data", Paths.sharedData.path, broken.path])
        XCTAssertEqual(result.status, 1, result.output)
        XCTAssertTrue(result.output.contains("0 valid, 3 invalid"), result.output)

        let cloudInit = try Validators.cloudInit()
        let badUserData = directory.appendingPathComponent("bad.yaml")
        try "#cloud-config\nusers: 5\nbootcmd: {a: 1}\n".write(to: badUserData, atomically: true, encoding: .utf8)
        XCTAssertEqual(try cloudInitSchemaFailures(cloudInit, [("bad", badUserData)]).count, 1)
    }
}

/// Runs `cloud-init schema --config-file` on each file (a few at a time:
/// each run is a Python start-up) and returns the failures.
func cloudInitSchemaFailures(_ cloudInit: String, _ files: [(String, URL)]) throws -> [String] {
    final class Failures: @unchecked Sendable {
        let lock = NSLock()
        var all: [String] = []
        func add(_ text: String) { lock.withLock { all.append(text) } }
    }
    let failures = Failures()
    DispatchQueue.concurrentPerform(iterations: files.count) { index in
        let (name, file) = files[index]
        do {
            let result = try ProcessRunner.run(cloudInit, ["schema", "--config-file", file.path])
            if result.status != 0 || !result.output.contains("Valid cloud-config") {
                failures.add("\(name): exit \(result.status)\n\(result.output)\(result.stderr)")
            }
        } catch {
            failures.add("\(name): \(error)")
        }
    }
    return failures.all.sorted()
}
