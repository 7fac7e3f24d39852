import Foundation
import XCTest

/// The example Coder template, checked without Terraform (python-hcl2).
final class TemplateTests: XCTestCase {
    func testTemplateParsesAndWiresTheSeed() throws {
        let result = try Validators.python("check_template.py", [Paths.template.path])
        XCTAssertEqual(result.status, 0, result.output + result.stderr)
        XCTAssertTrue(result.output.contains("0 missing"), result.output)
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

import Seed

enum TerraformExternalKeys {
    static let input = TerraformExternal.inputKeys
    static let output = Set(TerraformExternal.outputKeys)
}
