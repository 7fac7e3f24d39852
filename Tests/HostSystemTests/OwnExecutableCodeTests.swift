import Foundation
import XCTest

@testable import HostSystem

/// The daemon's own code pages out of its resident set after READY=1.
final class OwnExecutableCodeTests: XCTestCase {
    func testOnlyTheExecutablesReadExecuteMappingsAreAdvised() {
        let exe = "/usr/bin/coder-vm-bootstrap"
        let lines: [(String, Bool)] = [
            ("55d0c0a00000-55d0c1400000 r-xp 00a00000 08:01 393 /usr/bin/coder-vm-bootstrap", true),
            ("55d0c0000000-55d0c0a00000 r--p 00000000 08:01 393 /usr/bin/coder-vm-bootstrap", false),
            ("55d0c1400000-55d0c1500000 rw-p 01400000 08:01 393 /usr/bin/coder-vm-bootstrap", false),
            ("7f1a2b000000-7f1a2b195000 r-xp 00028000 08:01 812 /usr/lib/x86_64-linux-gnu/libc.so.6", false),
            ("7f1a2c000000-7f1a2c021000 rw-p 00000000 00:00 0 ", false),
            ("7ffd1c5f1000-7ffd1c5f3000 r-xp 00000000 00:00 0                          [vdso]", false),
            ("55d0c0a00000-55d0c1400000 r-xp 00a00000 08:01 393 /usr/bin/coder-vm-bootstrap-other", false),
        ]
        for (line, advised) in lines {
            XCTAssertEqual(OwnExecutableCode.codeRange(Substring(line), of: exe) != nil, advised, line)
        }
        let range = OwnExecutableCode.codeRange("55d0c0a00000-55d0c1400000 r-xp 00a00000 08:01 393 /usr/bin/coder-vm-bootstrap", of: exe)
        XCTAssertEqual(range?.start, 0x55d0c0a00000)
        XCTAssertEqual(range?.end, 0x55d0c1400000)
        XCTAssertNotNil(
            OwnExecutableCode.codeRange("1000-2000 r-xp 00000000 08:01 393 /opt/a b (deleted)", of: "/opt/a b (deleted)"),
            "a replaced binary's path as the kernel shows it")
    }

    func testDroppedCodePagesLeaveTheResidentSetAndTheProcessRunsOn() throws {
        let before = try residentCodeKiB()
        let advised = try OwnExecutableCode.dropResidentPages()
        let after = try residentCodeKiB()

        XCTAssertGreaterThan(advised, 0)
        XCTAssertLessThan(after, before, "resident code of this test process: \(before) KiB before, \(after) KiB after")
    }

    /// Rss of this process's r-xp mappings of its own executable, from smaps.
    private func residentCodeKiB() throws -> Int {
        let exe = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
        var inOwnCode = false
        var total = 0
        for line in try String(contentsOfFile: "/proc/self/smaps", encoding: .utf8).split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            if let first = fields.first, first.contains("-"), fields.count >= 5 {
                inOwnCode = fields[1] == "r-xp" && fields.count == 6 && fields[5] == exe
            } else if inOwnCode, fields.first == "Rss:", fields.count >= 2, let kib = Int(fields[1]) {
                total += kib
            }
        }
        return total
    }
}
