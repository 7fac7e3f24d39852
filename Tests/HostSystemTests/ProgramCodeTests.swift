import Foundation
import XCTest

@testable import HostSystem

/// The daemon's code pages (its own and its libraries') out of its resident set after READY=1.
final class ProgramCodeTests: XCTestCase {
    func testOnlyReadOnlyMappingsOfFilesWithNoCopiedPageAreAdvised() {
        let smaps = """
            55d0c0000000-55d0c0a00000 r--p 00000000 08:01 393                        /usr/bin/coder-vm-bootstrap
            Rss:                 392 kB
            Anonymous:           392 kB
            7f1a2a000000-7f1a2a0a9000 r--p 00000000 08:01 814                        /usr/lib/x86_64-linux-gnu/libstdc++.so.6.0.30
            Rss:                 676 kB
            Anonymous:             0 kB
            55d0c0a00000-55d0c1400000 r-xp 00a00000 08:01 393                        /usr/bin/coder-vm-bootstrap
            Rss:                5120 kB
            Private_Dirty:      5120 kB
            Anonymous:             0 kB
            55d0c1400000-55d0c1500000 rw-p 01400000 08:01 393                        /usr/bin/coder-vm-bootstrap
            Anonymous:          1220 kB
            7f1a2b000000-7f1a2b195000 r-xp 00028000 08:01 812                        /usr/lib/x86_64-linux-gnu/libc.so.6
            Anonymous:             0 kB
            7f1a2b200000-7f1a2b300000 r-xp 00000000 08:01 813                        /usr/lib/libtextrel.so
            Private_Dirty:         8 kB
            Anonymous:             8 kB
            7f1a2b400000-7f1a2b420000 r--p 00020000 08:01 815                        /usr/lib/libswapped.so
            Anonymous:             0 kB
            Swap:                 12 kB
            7f1a2c000000-7f1a2c021000 rw-p 00000000 00:00 0 
            Anonymous:           132 kB
            7ffd1c5f1000-7ffd1c5f3000 r-xp 00000000 00:00 0                          [vdso]
            Anonymous:             0 kB
            1000-2000 r-xp 00000000 08:01 393                                        /opt/a b (deleted)
            VmFlags: rd ex mr mw me dw
            """
        let mappings = ProgramCode.mappings(inSmaps: smaps)
        XCTAssertEqual(mappings.count, 10)
        XCTAssertEqual(
            mappings.filter(\.holdsOnlyFilePages).map(\.path),
            [
                "/usr/lib/x86_64-linux-gnu/libstdc++.so.6.0.30", "/usr/bin/coder-vm-bootstrap", "/usr/lib/x86_64-linux-gnu/libc.so.6",
                "/opt/a b (deleted)",
            ],
            "files' code and read-only data, just installed or not; never a copied page (RELRO; resident or swapped out) or the vDSO")
        XCTAssertEqual(mappings[2].start, 0x55d0c0a00000)
        XCTAssertEqual(mappings[2].end, 0x55d0c1400000)
        XCTAssertEqual(mappings[5].anonymousKiB, 8)
        XCTAssertEqual(mappings[6].swapKiB, 12)
    }

    func testDroppedCodePagesLeaveTheResidentSetAndTheProcessRunsOn() throws {
        let before = try residentCodeKiB()
        let advised = try ProgramCode.dropResidentPages()
        let after = try residentCodeKiB()

        XCTAssertGreaterThan(advised, 0)
        XCTAssertLessThan(after, before, "resident code of this test process: \(before) KiB before, \(after) KiB after")
        XCTAssertEqual(String(decoding: Array("still runs".utf8), as: UTF8.self), "still runs")
    }

    /// Rss of this process's r-xp and r--p mappings of files, from smaps.
    private func residentCodeKiB() throws -> Int {
        var inCode = false
        var total = 0
        for line in try String(contentsOfFile: "/proc/self/smaps", encoding: .utf8).split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            if let first = fields.first, first.contains("-"), fields.count >= 5 {
                inCode = (fields[1] == "r-xp" || fields[1] == "r--p") && fields.count >= 6 && fields[5].hasPrefix("/")
            } else if inCode, fields.first == "Rss:", fields.count >= 2, let kib = Int(fields[1]) {
                total += kib
            }
        }
        return total
    }
}
