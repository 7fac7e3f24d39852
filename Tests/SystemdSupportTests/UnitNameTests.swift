import XCTest

@testable import SystemdSupport

final class UnitNameTests: XCTestCase {
    func testPlainTemplateAndInstanceNamesAreRecognised() throws {
        XCTAssertEqual(try UnitName("ssh.service").form, .plain)
        XCTAssertEqual(try UnitName("code-server@.service").form, .template)
        XCTAssertEqual(try UnitName("code-server@coder.service").form, .instance)
        XCTAssertEqual(try UnitName("coder-agent@coder.service").template?.rawValue, "coder-agent@.service")
        XCTAssertEqual(try UnitName("docker.socket").type, "socket")
        XCTAssertEqual(try UnitName(#"systemd-fsck@dev-disk-by\x2dlabel-root.service"#).form, .instance)
    }

    func testNamesSystemdWouldRejectFailWithAReason() {
        let bad: [(String, String)] = [
            ("", "empty"),
            ("sshd", "no type suffix"),
            (".service", "no type suffix"),
            ("sshd.daemon", "unknown unit type"),
            ("@foo.service", "starts with @"),
            ("code server.service", "invalid character"),
            ("code-server@coder/1.service", "invalid character"),
            ("x; rm -rf.service", "invalid character"),
            (String(repeating: "a", count: 250) + ".service", "longer than 255"),
        ]
        for (name, reason) in bad {
            XCTAssertThrowsError(try UnitName(name), name) { error in
                XCTAssertTrue((error as? UnitNameError)?.reason.contains(reason) ?? false, "\(name): \(error)")
            }
        }
    }

    func testInstanceNamesAreEscapedLikeSystemdEscape() throws {
        XCTAssertEqual(try UnitName(template: "code-server", instance: "coder").rawValue, "code-server@coder.service")
        // As `systemd-escape`: `-` and non-ASCII become \xNN, `/` becomes `-`.
        XCTAssertEqual(UnitName.escape("jane-doe"), #"jane\x2ddoe"#)
        XCTAssertEqual(UnitName.escape("/home/jane"), "-home-jane")
        XCTAssertEqual(UnitName.escape(".hidden"), #"\x2ehidden"#)
        XCTAssertEqual(UnitName.escape("a b"), #"a\x20b"#)
        XCTAssertEqual(UnitName.escape("ü"), #"\xc3\xbc"#)
        XCTAssertEqual(
            try UnitName(template: "code-server", instance: "jane doe").rawValue,
            #"code-server@jane\x20doe.service"#)
    }

    func testTemplatesCanBeEnabledButNotStarted() throws {
        XCTAssertThrowsError(try UnitManager.startable("code-server@.service")) { error in
            XCTAssertEqual((error as? UnitNameError)?.name, "code-server@.service")
            XCTAssertTrue("\(error)".contains("code-server@NAME.service"), "\(error)")
        }
        XCTAssertEqual(try UnitManager.startable("code-server@coder.service"), "code-server@coder.service")
        XCTAssertEqual(try UnitManager.unitFileArgument("code-server@.service"), "code-server@.service")
        XCTAssertEqual(
            try UnitManager.unitFileArgument("/usr/lib/systemd/system/code-server@.service"),
            "/usr/lib/systemd/system/code-server@.service")
        XCTAssertThrowsError(try UnitManager.unitFileArgument("/etc/passwd"))
    }
}
