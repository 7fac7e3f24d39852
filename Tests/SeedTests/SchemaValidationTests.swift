import Foundation
import WorkspaceSpec
import XCTest

@testable import Seed

/// The rendered documents against the schemas of their consumers:
/// cloud-init's own schema, Kubernetes' for Secret and Service, KubeVirt's
/// and CDI's for VirtualMachine and DataVolume.
final class SchemaValidationTests: XCTestCase {
    func testEveryUserDataPassesCloudInitSchemaForEveryPreset() throws {
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
        let failures = try cloudInitSchemaFailures(files)
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
        // And the other shapes: no namespace, a cloned golden image, halted,
        // sized, both readiness probes with and without a network-config.
        let minimal = try SpecFixtures.spec(try SpecFixtures.example("minimal.yaml"))
        let withNetwork = try SpecFixtures.spec(SpecFixtures.withNetwork(try SpecFixtures.example("minimal.yaml")))
        let shapes: [(String, WorkspaceSpec, (inout RenderOptions) -> Void)] = [
            ("no-namespace", minimal, { $0.namespace = nil }),
            (
                "clone", minimal,
                {
                    $0.rootDisk = .pvc(namespace: "images", name: "golden")
                    $0.storageClass = "ceph-block"
                    $0.accessMode = "ReadWriteMany"
                }
            ),
            (
                "halted-big", minimal,
                {
                    $0.runStrategy = .halted
                    $0.cpuCores = 16
                    $0.memory = "64Gi"
                    $0.diskSize = "500Gi"
                }
            ),
            ("image-url", minimal, { $0.rootDisk = .http(url: "https://images.example.com/custom.qcow2") }),
            ("http-probe-network", withNetwork, { $0.readinessProbe = .http }),
            ("exec-probe", minimal, { $0.readinessProbe = .exec }),
            ("exec-probe-network", withNetwork, { $0.readinessProbe = .exec }),
        ]
        for (name, spec, configure) in shapes {
            let file = directory.appendingPathComponent("shape-\(name).yaml")
            let context = try SpecFixtures.context(spec, configure: configure)
            try WorkspaceManifests.yaml(try WorkspaceManifests.all(context)).write(to: file, atomically: true, encoding: .utf8)
            paths.append(file.path)
        }
        // Offline for certain where the machine allows it: no network namespace, no network.
        let result = try Validators.python(
            "validate_manifests.py", ["--fixtures", Paths.fixtures.path] + paths,
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
        apiVersion: kubevirt.io/v1
        kind: VirtualMachine
        metadata: {name: misspelt}
        spec:
          template:
            spec:
              domain: {devices: {}}
              volumes: [{name: c, cloudInitNoCloud: {secretRef: {name: s}, networkDataSecretRf: {name: s}}}]
        ---
        apiVersion: cdi.kubevirt.io/v1beta1
        kind: DataVolume
        metadata: {name: x}
        spec: {source: {http: {url: 5}}, storage: {resources: {requests: {storage: 10737418240}}}}
        """.write(to: broken, atomically: true, encoding: .utf8)
        let result = try Validators.python("validate_manifests.py", ["--fixtures", Paths.fixtures.path, broken.path])
        XCTAssertEqual(result.status, 1, result.output)
        XCTAssertTrue(result.output.contains("0 valid, 4 invalid"), result.output)
        XCTAssertTrue(result.output.contains("'networkDataSecretRf' was unexpected"), result.output)

        let badUserData = directory.appendingPathComponent("bad.yaml")
        try "#cloud-config\nusers: 5\nbootcmd: {a: 1}\n".write(to: badUserData, atomically: true, encoding: .utf8)
        let noHeader = directory.appendingPathComponent("no-header.yaml")
        try "users: []\nbootcmd: [\"true\"]\n".write(to: noHeader, atomically: true, encoding: .utf8)
        let failures = try cloudInitSchemaFailures([("bad", badUserData), ("no-header", noHeader)])
        XCTAssertEqual(failures.count, 2, failures.joined(separator: "\n"))
        XCTAssertTrue(failures[0].contains("bootcmd: {'a': 1} is not of type 'array'"), failures[0])
        XCTAssertTrue(failures[1].contains("needs to begin with \"#cloud-config\""), failures[1])
    }

    /// `users: []` is how cloud-init is told to create no user; the schema
    /// of cloud-init 22.2 to 23.1 (Debian 12 ships 22.4) rejects it by
    /// mistake. The allowance is made only there, and only for that.
    func testTheOnlySchemaAllowanceIsCloudInitsEmptyUsersBug() throws {
        _ = try Validators.cloudInit()
        let result = try Validators.python("cloudinit_schema.py", [], interpreter: "/usr/bin/python3")
        XCTAssertEqual(result.status, 0, result.stderr)
        let report = try XCTUnwrap(try JSONSerialization.jsonObject(with: result.stdout) as? [String: Any])
        let version = try XCTUnwrap(report["cloudInit"] as? String).split(separator: ".").compactMap { Int($0) }
        let allowances = try XCTUnwrap(report["allowances"] as? [String])
        if version.lexicographicallyPrecedes([23, 2]) {
            XCTAssertEqual(allowances.count, 1)
            XCTAssertTrue(allowances.first?.hasPrefix("users: []") == true, "\(allowances)")
        } else {
            XCTAssertEqual(allowances, [], "fixed upstream: nothing to allow")
        }
    }
}

/// cloud-init's own schema check on each file (one process for all, see
/// Validators/cloudinit_schema.py for its one allowance); the failures.
func cloudInitSchemaFailures(_ files: [(String, URL)]) throws -> [String] {
    _ = try Validators.cloudInit()
    struct Report: Decodable {
        var allowances: [String]
        var problems: [String: String]
    }
    let result = try Validators.python("cloudinit_schema.py", files.map(\.1.path), interpreter: "/usr/bin/python3")
    guard result.status == 0 else { return ["cloudinit_schema.py exited \(result.status): \(result.stderr)"] }
    let report = try JSONDecoder().decode(Report.self, from: result.stdout)
    return files.compactMap { name, file in report.problems[file.path].map { "\(name): \($0)" } }.sorted()
}
