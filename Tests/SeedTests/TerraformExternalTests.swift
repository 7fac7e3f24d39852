import Foundation
import WorkspaceSpec
import XCTest
import Yams

@testable import Seed

/// Terraform's `external` protocol, through the real binary: a JSON object
/// of strings in, a JSON object of strings out, errors on stderr.
final class TerraformExternalTests: XCTestCase {
    /// The spec as the template's `jsonencode(local.spec)` writes it, nulls included.
    static func templateSpecJSON() -> String {
        """
        {"apiVersion":"coder-vm-bootstrap/v1",\
        "coder":{"accessURL":"https://coder.example.com","agentURL":null,"arch":"amd64","token":"6f1d2c3b-4a59-4b43-9a3e-0b6f6c1e93f4"},\
        "install":{"packageURL":"https://dl.example.com/coder-vm-bootstrap-0.1.0-linux-amd64.tar.gz","sha256":null},\
        "user":{"name":"coder","sshAuthorizedKeys":[]},\
        "workspace":{"id":"0b6f6c1e-93f4-4b43-9a3e-6f1d2c3b4a59","name":"dev","owner":"alice"}}
        """
    }

    func query(_ extra: [String: String] = [:]) throws -> Data {
        var query = [
            "spec_json": Self.templateSpecJSON(), "namespace": "coder-workspaces", "distro": "rocky-9",
            "cpu": "4", "memory": "8Gi", "disk": "32Gi", "run_strategy": "Always",
        ]
        query.merge(extra) { $1 }
        return try JSONEncoder().encode(query)
    }

    func testJSONInJSONOutAllStrings() throws {
        let result = try ProcessRunner.seed(["terraform-external"], stdin: try query())
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(result.stderr, "")
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: result.stdout) as? [String: Any])
        XCTAssertEqual(Set(object.keys), Set(TerraformExternal.outputKeys))
        XCTAssertTrue(object.values.allSatisfy { $0 is String }, "every value is a string")
        let output = object as! [String: String]
        XCTAssertEqual(output["secret_name"], "coder-alice-dev-cloudinit")
        XCTAssertEqual(output["virtualmachine_name"], "coder-alice-dev")
        XCTAssertEqual(output["datavolume_name"], "coder-alice-dev-root")
        XCTAssertEqual(output["service_name"], "coder-alice-dev")
        XCTAssertEqual(output["service_host"], "coder-alice-dev.coder-workspaces.svc.cluster.local")
        XCTAssertEqual(output["firmware_uuid"], FirmwareUUID.forWorkspace(id: "0b6f6c1e-93f4-4b43-9a3e-6f1d2c3b4a59"))
        XCTAssertEqual(output["hostname"], "coder-alice-dev")

        // The user-data carries the spec with the token; the spec's nulls were left out.
        let userData = try XCTUnwrap(output["userdata"])
        let spec = try specEmbedded(inUserData: userData)
        XCTAssertEqual(spec.coder?.token, "6f1d2c3b-4a59-4b43-9a3e-0b6f6c1e93f4")
        XCTAssertNil(spec.coder?.agentURL)
        XCTAssertNil(spec.install?.sha256)
        XCTAssertEqual(try SpecDecoder.decode(json: Data(output["spec_json"]!.utf8)), spec)
        XCTAssertTrue(userData.contains("\nusers: []\n"), "the daemon, not cloud-init, makes the user")
        XCTAssertEqual(output["networkdata"], "", "no network in the spec")

        // The JSON manifests are what the YAML stream says, and sized as asked.
        let vm = try JSONSerialization.jsonObject(with: Data(output["virtualmachine_json"]!.utf8)) as! [String: Any]
        let domain = ((vm["spec"] as! [String: Any])["template"] as! [String: Any])["spec"] as! [String: Any]
        XCTAssertEqual(((domain["domain"] as! [String: Any])["cpu"] as! [String: Any])["cores"] as? Int, 4)
        let documents = try Yams.load_all(yaml: output["manifests_yaml"]!).compactMap { $0 as? [String: Any] }
        XCTAssertEqual(documents.map { $0["kind"] as? String }, ["Secret", "DataVolume", "VirtualMachine", "Service"])
        XCTAssertEqual(NSDictionary(dictionary: documents[2]), NSDictionary(dictionary: vm))
        let secret = try JSONSerialization.jsonObject(with: Data(output["secret_json"]!.utf8)) as! [String: Any]
        let encoded = (secret["data"] as! [String: String])["userdata"]!
        XCTAssertEqual(String(decoding: Data(base64Encoded: encoded)!, as: UTF8.self), userData)
        let labels = try JSONSerialization.jsonObject(with: Data(output["labels_json"]!.utf8)) as! [String: String]
        XCTAssertEqual(labels["com.coder.workspace.id"], "0b6f6c1e-93f4-4b43-9a3e-6f1d2c3b4a59")

        let dataVolume = try JSONSerialization.jsonObject(with: Data(output["datavolume_json"]!.utf8)) as! [String: Any]
        let storage = ((dataVolume["spec"] as! [String: Any])["storage"] as! [String: Any])
        XCTAssertEqual(((storage["resources"] as! [String: Any])["requests"] as! [String: String])["storage"], "32Gi")
    }

    func testStoppedWorkspaceKeepsEverythingButRunsNothing() throws {
        let running = try TerraformExternal.respond(to: try query())
        let halted = try TerraformExternal.respond(to: try query(["run_strategy": "Halted"]))
        let a = try JSONDecoder().decode([String: String].self, from: running)
        let b = try JSONDecoder().decode([String: String].self, from: halted)
        for key in TerraformExternal.outputKeys where key != "virtualmachine_json" && key != "manifests_yaml" {
            XCTAssertEqual(a[key], b[key], key)
        }
        XCTAssertTrue(b["virtualmachine_json"]!.contains("\"runStrategy\":\"Halted\""))
        XCTAssertEqual(a["virtualmachine_json"]!.replacingOccurrences(of: "\"Always\"", with: "\"Halted\""), b["virtualmachine_json"])
    }

    /// The template renders the VM, DataVolume and Service from the spec
    /// without its coder section (known at plan time) and the Secret from
    /// the whole spec: both must agree on everything the objects share.
    func testManifestsDoNotDependOnTheAgent() throws {
        var machineSpec = try JSONDecoder().decode(JSONValue.self, from: Data(Self.templateSpecJSON().utf8))
        machineSpec[keys: "coder"] = nil
        let machineJSON = String(decoding: try JSONEncoder().encode(machineSpec), as: UTF8.self)
        let machine = try JSONDecoder().decode([String: String].self, from: try TerraformExternal.respond(to: try query(["spec_json": machineJSON])))
        let whole = try JSONDecoder().decode([String: String].self, from: try TerraformExternal.respond(to: try query()))
        for key in [
            "secret_name", "datavolume_name", "virtualmachine_name", "service_name", "namespace", "hostname",
            "service_host", "firmware_uuid", "labels_json", "datavolume_json", "virtualmachine_json", "service_json",
        ] {
            XCTAssertEqual(machine[key], whole[key], key)
        }
        XCTAssertNotEqual(machine["userdata"], whole["userdata"])
    }

    func testReadinessProbeAndNetworkConfigReachTheManifests() throws {
        var spec = try JSONDecoder().decode(JSONValue.self, from: Data(Self.templateSpecJSON().utf8))
        // As the template's yamldecode(var.network_config) and jsonencode() give it.
        spec[keys: "network"] = .object(["version": .int(2), "ethernets": .object(["enp1s0": .object(["dhcp4": .bool(true)])])])
        let specJSON = String(decoding: try JSONEncoder().encode(spec), as: UTF8.self)
        let output = try JSONDecoder().decode(
            [String: String].self,
            from: try TerraformExternal.respond(
                to: try query(["spec_json": specJSON, "readiness_probe": "exec"])))
        let vm = try XCTUnwrap(output["virtualmachine_json"])
        XCTAssertTrue(vm.contains("\"readinessProbe\":{\"exec\":{\"command\":[\"coder-vm-bootstrap\",\"status\",\"--probe\"]}"), vm)
        XCTAssertFalse(vm.contains("httpGet"), vm)
        XCTAssertTrue(vm.contains("\"networkDataSecretRef\":{\"name\":\"coder-alice-dev-cloudinit\"}"), vm)
        XCTAssertEqual(try SpecTreeParserForTests.load(try XCTUnwrap(output["networkdata"])), spec[keys: "network"])
        let secret = try JSONSerialization.jsonObject(with: Data(output["secret_json"]!.utf8)) as! [String: Any]
        let data = try XCTUnwrap(secret["data"] as? [String: String])
        XCTAssertEqual(Set(data.keys), ["userdata", "networkdata"])
        XCTAssertEqual(
            data["networkdata"].flatMap { Data(base64Encoded: $0) }.map { String(decoding: $0, as: UTF8.self) },
            output["networkdata"])

        let http = try JSONDecoder().decode([String: String].self, from: try TerraformExternal.respond(to: try query()))
        XCTAssertTrue(http["virtualmachine_json"]!.contains("\"httpGet\":{\"path\":\"/readyz\",\"port\":13380}"))
        XCTAssertFalse(http["virtualmachine_json"]!.contains("networkData"))
    }

    func testOnlySpecJSONIsRequired() throws {
        let result = try ProcessRunner.seed(
            ["terraform-external"],
            stdin: try JSONEncoder().encode(["spec_json": Self.templateSpecJSON()]))
        XCTAssertEqual(result.status, 0, result.stderr)
        let output = try JSONDecoder().decode([String: String].self, from: result.stdout)
        XCTAssertEqual(output["namespace"], "")
        XCTAssertEqual(output["service_host"], "coder-alice-dev")
        XCTAssertFalse(output["manifests_yaml"]!.contains("namespace:"))
        XCTAssertTrue(output["datavolume_json"]!.contains(DistributionPreset.default.imageURL))
    }

    func testProtocolErrorsGoToStandardErrorWithANonZeroExit() throws {
        let cases: [(String, Data, String)] = [
            ("not JSON", Data("spec_json=x".utf8), "not JSON"),
            ("not an object", Data("[\"spec_json\"]".utf8), "must be a JSON object, not a list"),
            ("non-string value", Data("{\"spec_json\": \"{}\", \"cpu\": 2}".utf8), "cpu: must be a string, not a number"),
            ("missing key", Data("{\"namespace\": \"ns\"}".utf8), "spec_json: is required"),
            ("unknown key", try query(["cpus": "2"]), "cpus: unknown key"),
            (
                "invalid spec",
                try query([
                    "spec_json": Self.templateSpecJSON().replacingOccurrences(of: "\"coder\",\"sshAuthorizedKeys\"", with: "\"Coder\",\"sshAuthorizedKeys\"")
                ]),
                "user.name: \"Coder\" is not a valid name"
            ),
            ("spec not JSON", try query(["spec_json": "apiVersion: x"]), "not valid JSON"),
            ("bad distro", try query(["distro": "windows"]), "distro: \"windows\" is not a preset"),
            ("bad cpu", try query(["cpu": "two"]), "cpu: \"two\" is not a whole number"),
            ("bad run strategy", try query(["run_strategy": "Running"]), "run_strategy: \"Running\""),
            ("bad memory", try query(["memory": "lots"]), "memory \"lots\""),
            ("bad readiness probe", try query(["readiness_probe": "tcp"]), "readiness_probe: \"tcp\" is not one of http, exec"),
            (
                "bad network",
                try query([
                    "spec_json": Self.templateSpecJSON().replacingOccurrences(
                        of: "\"user\":", with: "\"network\":{\"ethernets\":{}},\"user\":")
                ]), "network.version: is required"
            ),
            (
                "wrong package", try query(["spec_json": Self.templateSpecJSON().replacingOccurrences(of: "linux-amd64.tar.gz", with: "amd64.deb")]),
                "install.packageURL: a .deb package cannot be installed on rocky-9"
            ),
        ]
        for (name, input, message) in cases {
            let result = try ProcessRunner.seed(["terraform-external"], stdin: input)
            XCTAssertNotEqual(result.status, 0, name)
            XCTAssertEqual(result.stdout, Data(), name)
            XCTAssertTrue(result.stderr.contains(message), "\(name): \(result.stderr)")
        }
    }
}
