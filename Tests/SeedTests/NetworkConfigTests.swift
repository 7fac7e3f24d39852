import Foundation
import WorkspaceSpec
import XCTest
import Yams

@testable import Seed

/// The spec's `network`: cloud-init's network-config, passed through to the
/// Secret's `networkdata` key, which the VM names in `networkDataSecretRef`
/// (KubeVirt reads only `userdata` through `secretRef`).
final class NetworkConfigTests: XCTestCase {
    func networkSpec() throws -> WorkspaceSpec {
        try SpecFixtures.spec(SpecFixtures.withNetwork(try SpecFixtures.example("minimal.yaml")))
    }

    func testTheNetworkConfigIsPassedThroughAsGiven() throws {
        let spec = try networkSpec()
        guard case .object(let root) = try SpecTreeParser.parse(SpecFixtures.network) else { return XCTFail() }
        XCTAssertEqual(spec.network, root["network"])
        XCTAssertEqual(spec.network?[keys: "ethernets", "enp2s0", "mtu"], .int(9000))
    }

    func testANetworkConfigWithoutAVersionItReadsIsRejectedWithItsPath() throws {
        let cases: [(String, String)] = [
            ("network: {ethernets: {eth0: {dhcp4: true}}}", "network.version: is required"),
            ("network: {network: {version: 2}}", "not wrapped in another network: key"),
            ("network: {version: 3}", "network.version: 3 is not a network-config version"),
            ("network: {version: \"2\"}", "network.version: must be the number 2 or 1, not a string"),
            ("network: [version, 2]", "network: must be a mapping, not a list"),
        ]
        let minimal = try SpecFixtures.example("minimal.yaml")
        for (yaml, message) in cases {
            XCTAssertThrowsError(try SpecFixtures.spec(minimal + yaml + "\n"), yaml) { error in
                XCTAssertTrue("\(error)".contains(message), "\(yaml): \(error)")
            }
        }
        XCTAssertNoThrow(try SpecFixtures.spec(minimal + "network: {version: 1, config: [{type: physical, name: eth0}]}\n"))
    }

    func testTheSecretCarriesTheNetworkConfigAndTheVMNamesItForNetworkData() throws {
        let context = try SpecFixtures.context(try networkSpec())
        let secret = try SecretRenderer.render(context)
        guard case .mapping(let data)? = secret["data"] else { return XCTFail("no data in \(secret)") }
        XCTAssertEqual(data.map(\.key), ["userdata", "networkdata"])
        guard case .string(let encoded) = data[1].value, let decoded = Data(base64Encoded: encoded) else { return XCTFail() }
        let networkData = String(decoding: decoded, as: UTF8.self)
        XCTAssertEqual(try SpecTreeParserForTests.load(networkData), context.spec.network)
        XCTAssertFalse(networkData.hasPrefix("network:"), "the network-config file itself, not wrapped")

        let volumes = VirtualMachineRenderer.render(context).at(["spec", "template", "spec", "volumes"])
        guard case .list(let list)? = volumes else { return XCTFail() }
        let noCloud = try XCTUnwrap(list[1]["cloudInitNoCloud"])
        XCTAssertEqual(
            noCloud,
            .object([
                ("secretRef", .object([("name", "coder-alice-dev-cloudinit")])),
                ("networkDataSecretRef", .object([("name", "coder-alice-dev-cloudinit")])),
            ]))
    }

    func testWithoutANetworkConfigThereIsNoNetworkDataAndNoReference() throws {
        let context = try SpecFixtures.context(try SpecFixtures.spec(try SpecFixtures.example("minimal.yaml")))
        guard case .mapping(let data)? = try SecretRenderer.render(context)["data"] else { return XCTFail() }
        XCTAssertEqual(data.map(\.key), ["userdata"])
        let vm = try WorkspaceManifests.yaml([VirtualMachineRenderer.render(context)])
        XCTAssertFalse(vm.contains("networkData"), vm)
    }

    /// cloud-init's own parser (what its renderers start from) reads the
    /// rendered networkdata into the interfaces and DNS it was given.
    func testCloudInitReadsTheRenderedNetworkData() throws {
        _ = try Validators.cloudInit()
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("network-config")
        try XCTUnwrap(try SecretRenderer.networkData(try networkSpec())).write(to: file, atomically: true, encoding: .utf8)
        let broken = directory.appendingPathComponent("broken")
        try "version: 2\nethernets: {eth0: {addresses: [not-an-address]}}\n".write(to: broken, atomically: true, encoding: .utf8)
        let result = try Validators.python("cloudinit_network.py", [file.path, broken.path], interpreter: "/usr/bin/python3")
        XCTAssertEqual(result.status, 0, result.stderr)
        let report = try XCTUnwrap(try JSONSerialization.jsonObject(with: result.stdout) as? [String: [String: Any]])
        let parsed = try XCTUnwrap(report[file.path])
        XCTAssertNil(parsed["error"], "\(parsed)")
        XCTAssertEqual(parsed["version"] as? Int, 2)
        XCTAssertEqual(parsed["interfaces"] as? [String], ["enp1s0", "enp2s0"])
        XCTAssertEqual(parsed["nameservers"] as? [String], ["192.0.2.1"])
        XCTAssertEqual(parsed["searchDomains"] as? [String], ["example.internal"])
        XCTAssertNotNil(report[broken.path]?["error"], "the parser can say no: \(report)")
    }

    func testFloatsAndNullsKeepTheirTypeForYAML11Readers() throws {
        for (number, text) in [(0.5, "0.5"), (2.0, "2.0"), (1e-7, "1.0e-07"), (-3e20, "-3.0e+20")] {
            XCTAssertEqual(YAMLValue.floatText(number), text)
            let yaml = try YAMLValue(.object(["v": .double(number)])).yamlDocument()
            XCTAssertEqual((try Yams.load(yaml: yaml) as? [String: Any])?["v"] as? Double, number, yaml)
        }
        let yaml = try YAMLValue(.object(["gone": .null, "kept": .bool(true)])).yamlDocument()
        XCTAssertEqual(yaml, "gone: null\nkept: true\n")
    }
}
