import Foundation
import HostSystem
import XCTest

/// Telling a program from an error page before it replaces a working binary.
final class ExecutableFormatTests: XCTestCase {
    func testThisMachinesOwnProgramsRunHere() throws {
        let head = Array(try Data(contentsOf: URL(fileURLWithPath: "/bin/true")).prefix(64))
        XCTAssertTrue(ExecutableFormat(prefix: head).runsHere)
    }

    func testAScriptWithAnInterpreterRunsHere() {
        XCTAssertEqual(ExecutableFormat(prefix: Array("#!/usr/bin/env python3\nprint()\n".utf8)), .script(interpreter: "/usr/bin/env"))
    }

    func testAnHTMLErrorPageIsNotAProgram() {
        XCTAssertFalse(ExecutableFormat(prefix: Array("<!DOCTYPE html><html><body>502 Bad Gateway".utf8)).runsHere)
    }

    func testAnELFForAnotherMachineDoesNotRunHere() {
        var header = [UInt8](repeating: 0, count: 64)
        header[0...3] = [0x7F, 0x45, 0x4C, 0x46]
        header[5] = 1  // little endian
        header[18] = 0x28  // EM_ARM
        XCTAssertEqual(ExecutableFormat(prefix: header), .elf(machine: 0x28))
        XCTAssertFalse(ExecutableFormat(prefix: header).runsHere)
    }
}
