import Foundation
import Seed
import XCTest

/// The example Coder template, checked without Terraform (python-hcl2):
/// against terraform-provider-coder's schema (an excerpt in Tests/Fixtures)
/// and for the wiring the project promises.
final class TemplateTests: XCTestCase {
    func testTemplateParsesAndWiresTheSeed() throws {
        let result = try Validators.python("check_template.py", [Paths.template.path])
        XCTAssertEqual(result.status, 0, result.output + result.stderr)
        XCTAssertTrue(result.output.contains("0 missing"), result.output)
        for block in [
            "resource coder_agent.main", "resource coder_script.bootstrap", "resource coder_app.code_server",
            "resource coder_metadata.vm", "data coder_parameter.distribution", "data coder_workspace.me",
            "data coder_workspace_owner.me",
        ] {
            XCTAssertTrue(result.output.contains("ok   \(block) matches the provider schema"), "\(block): \(result.output)")
        }
    }

    /// The checker is only worth something if it can fail: attributes the
    /// provider does not have, has read-only or deprecated, missing required
    /// ones, too many blocks, and references to attributes that do not exist.
    func testTheCheckerRejectsWhatTheProviderWouldNot() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let template = directory.appendingPathComponent("main.tf")
        try """
        data "coder_workspace" "me" {}
        resource "coder_agent" "main" {
          os    = "linux"
          dir   = "/home/coder"
          token = "x"
          startup_script_behavior = "blocking"
          metadata {
            key    = "bootstrap"
            script = "coder-vm-bootstrap status --line"
            colour = "red"
          }
        }
        resource "coder_script" "bootstrap" {
          agent_id     = coder_agent.main.identifier
          script       = "coder-vm-bootstrap status --wait --timeout 900"
          run_on_start = true
        }
        resource "coder_app" "code_server" {
          agent_id = coder_agent.main.id
          slug     = "code-server"
          healthcheck {
            url       = "http://localhost:13337/healthz"
            interval  = 5
            threshold = 6
          }
          healthcheck {
            url       = "http://localhost:13337/healthz"
            interval  = 5
            threshold = 6
          }
        }
        locals {
          owner = data.coder_workspace.me.owner_name
        }
        """.write(to: template, atomically: true, encoding: .utf8)
        let result = try Validators.python("check_template.py", [template.path])
        XCTAssertEqual(result.status, 1, result.output + result.stderr)
        for finding in [
            "coder_agent.main.arch is required", "coder_agent.main.dir is deprecated",
            "coder_agent.main.token is read-only", "coder_agent.main.metadata[0].colour is not in the provider's schema",
            "coder_agent.main.metadata[0].interval is required", "coder_script.bootstrap.display_name is required",
            "coder_app.code_server.healthcheck: at most 1 block(s)",
            "coder_agent.main.identifier is not an attribute of coder_agent",
            "data.coder_workspace.me.owner_name is not an attribute of coder_workspace",
            "FAIL coder_agent has no startup_script(_behavior)",
            "FAIL   with run_on_start = true and start_blocks_login = true",
        ] {
            XCTAssertTrue(result.output.contains(finding), "\(finding):\n\(result.output)")
        }
    }

    func testTemplateQueryAndResultKeysAreOnesTheSeedKnows() throws {
        let result = try Validators.python("check_template.py", [Paths.template.path])
        let last = try XCTUnwrap(result.output.split(separator: "\n").last)
        let keys = try JSONDecoder().decode([String: [String]].self, from: Data(last.utf8))
        XCTAssertEqual(keys["query_keys"]?.isEmpty, false)
        for key in keys["query_keys"] ?? [] { XCTAssertTrue(TerraformExternalKeys.input.contains(key), key) }
        for key in keys["result_keys"] ?? [] { XCTAssertTrue(TerraformExternalKeys.output.contains(key), key) }
    }
}

enum TerraformExternalKeys {
    static let input = TerraformExternal.inputKeys
    static let output = Set(TerraformExternal.outputKeys)
}
