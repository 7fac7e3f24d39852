import Foundation
import XCTest

/// The example Coder template, checked without Terraform (python-hcl2).
final class TemplateTests: XCTestCase {
    func testTemplateParsesAndWiresTheSeed() throws {
        let result = try Validators.python("check_template.py", [Paths.template.path])
        XCTAssertEqual(result.status, 0, result.output + result.stderr)
        XCTAssertTrue(result.output.contains("0 missing"), result.output)
    }

    func testTemplateQueryKeysAreOnesTheSeedReads() throws {
        let text = try String(contentsOf: Paths.template, encoding: .utf8)
        guard let start = text.range(of: "query = {"), let end = text[start.upperBound...].range(of: "}\n}") else {
            return XCTFail("no query block")
        }
        let keys = text[start.upperBound..<end.lowerBound].split(separator: "\n").compactMap { line -> String? in
            let parts = line.split(separator: "=", maxSplits: 1)
            return parts.count == 2 ? parts[0].trimmingCharacters(in: .whitespaces) : nil
        }
        XCTAssertFalse(keys.isEmpty)
        for key in keys { XCTAssertTrue(TerraformExternalKeys.input.contains(key), key) }
        for output in text.matches(of: /data\.external\.seed\.result\.([a-z_]+)/).map({ String($0.1) }) {
            XCTAssertTrue(TerraformExternalKeys.output.contains(output), output)
        }
    }
}

import Seed

enum TerraformExternalKeys {
    static let input = TerraformExternal.inputKeys
    static let output = Set(TerraformExternal.outputKeys)
}
