import HostSystem
import XCTest

/// Values from the spec on their way into EnvironmentFiles and line configs.
final class ConfigTextTests: XCTestCase {
    func testValueWithALineBreakCannotAddAVariable() {
        var file = EnvironmentFile(comment: "test")
        XCTAssertThrowsError(try file.set("HASHED_PASSWORD", "x\nCODER_AGENT_URL=https://evil.example/")) { error in
            XCTAssertEqual("\(error)", "refusing the value for HASHED_PASSWORD: it contains the control character U+000A")
        }
        XCTAssertTrue(file.entries.isEmpty)
    }

    func testEveryControlCharacterIsRefused() {
        var file = EnvironmentFile(comment: "test")
        for scalar in [0x00, 0x0D, 0x1B, 0x7F, 0x85, 0x2028, 0x2029] {
            XCTAssertThrowsError(try file.set("V", "a\(Unicode.Scalar(scalar)!)b"), "U+\(String(scalar, radix: 16))")
        }
    }

    func testValuesAreQuotedSoSystemdReadsThemBackUnchanged() throws {
        var file = EnvironmentFile(comment: "Managed by test.")
        try file.set("HASHED_PASSWORD", "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA")
        try file.set("HEADER", #"a'b"c\d`e$f"#)
        XCTAssertEqual(
            file.text,
            """
            # Managed by test.
            HASHED_PASSWORD='$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA'
            HEADER="a'b\\"c\\\\d\\`e\\$f"

            """)
    }

    func testANameThatIsNotAVariableNameIsRefused() {
        var file = EnvironmentFile(comment: "test")
        XCTAssertThrowsError(try file.set("A=B", "x"))
        XCTAssertThrowsError(try file.set("9LIVES", "x"))
    }

    func testConfigLinesRefuseAWordThatWouldStartALineOfItsOwn() throws {
        var lines = ConfigLines(header: "test")
        try lines.add("Port", "22")
        XCTAssertThrowsError(try lines.add("AuthorizedKeysFile", "/x\nPermitRootLogin yes"))
        XCTAssertEqual(lines.text, "# test\nPort 22\n")
    }
}
