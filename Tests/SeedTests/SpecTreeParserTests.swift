import Foundation
import WorkspaceSpec
import XCTest

@testable import Seed

final class SpecTreeParserTests: XCTestCase {
    func testYAMLAndJSONExamplesDecodeToTheSameSpec() throws {
        let yaml = try SpecTreeParser.decodeSpec(try SpecFixtures.example("full.yaml"))
        let json = try SpecTreeParser.decodeSpec(try SpecFixtures.example("full.json"))
        XCTAssertEqual(yaml, json)
    }

    func testPlainScalarsFollowTheYAML12CoreSchema() throws {
        let tree = try SpecTreeParser.parse(
            """
            a: on
            b: yes
            c: true
            d: 0x1F
            e: 0o17
            f: 1.5
            g: ~
            h: "123"
            i: 2024-01-01
            j: +12
            k: .5
            """)
        XCTAssertEqual(
            tree,
            .object([
                "a": "on", "b": "yes", "c": .bool(true), "d": .int(31), "e": .int(15), "f": .double(1.5),
                "g": .null, "h": "123", "i": "2024-01-01", "j": .int(12), "k": .double(0.5),
            ]))
    }

    func testEveryStructuralProblemIsReportedWithItsPath() throws {
        XCTAssertThrowsError(
            try SpecTreeParser.parse(
                """
                user:
                  name: a
                  groups: [x, {1: y}]
                ratio: .inf
                big: 99999999999999999999
                tagged: !!binary aGVsbG8=
                """)
        ) { error in
            let invalid = error as! InvalidSpec
            XCTAssertEqual(Set(invalid.diagnostics.map(\.path)), ["user.groups[1]", "ratio", "big", "tagged"])
            XCTAssertTrue(invalid.description.contains("a key is not a string (1) (line 3)"), invalid.description)
        }
        // Yams itself refuses duplicate keys, with the place.
        XCTAssertThrowsError(try SpecTreeParser.parse("user:\n  name: a\n  name: b\n")) { error in
            XCTAssertTrue("\(error)".contains("duplicated key(s): 'name'"), "\(error)")
            XCTAssertTrue("\(error)".contains("line 2"), "\(error)")
        }
    }

    func testSyntaxErrorsNameTheLine() {
        XCTAssertThrowsError(try SpecTreeParser.parse("user:\n  name: [a\nworkspace: {}\n")) { error in
            let invalid = error as! InvalidSpec
            XCTAssertEqual(invalid.diagnostics.count, 1)
            XCTAssertTrue(invalid.diagnostics[0].message.contains("not valid YAML"), invalid.description)
            XCTAssertTrue(invalid.description.contains("3:"), invalid.description)
        }
        XCTAssertThrowsError(try SpecTreeParser.parse("{\"a\": }")) { error in
            XCTAssertTrue((error as! InvalidSpec).diagnostics[0].message.contains("not valid JSON"))
        }
        XCTAssertThrowsError(try SpecTreeParser.parse("a: 1\n---\nb: 2\n"))
        XCTAssertThrowsError(try SpecTreeParser.parse("   \n# only a comment\n"))
    }

    func testAliasBombsAreStopped() {
        var yaml = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
        for level in 1...6 {
            yaml += "a\(level): &a\(level) [" + Array(repeating: "*a\(level - 1)", count: 10).joined(separator: ", ") + "]\n"
        }
        XCTAssertThrowsError(try SpecTreeParser.parse(yaml)) { error in
            XCTAssertTrue("\(error)".contains("more than"), "\(error)")
        }
    }

    func testDecoderProblemsKeepTheirFieldPaths() {
        XCTAssertThrowsError(
            try SpecTreeParser.decodeSpec(
                """
                apiVersion: coder-vm-bootstrap/v1
                workspace: {owner: Alice, name: dev, id: x}
                user: {name: coder, sshAuthorizedKeys: [not-a-key]}
                ssh: {port: 70000}
                """)
        ) { error in
            XCTAssertEqual(
                Set((error as! InvalidSpec).diagnostics.map(\.path)),
                ["workspace.owner", "user.sshAuthorizedKeys[0]", "ssh.port"])
        }
    }
}

extension JSONValue: ExpressibleByStringLiteral {
    public init(stringLiteral value: String) { self = .string(value) }
}
