// MemberVetting and ArchivePath on their own: pure decisions, no archive.
import XCTest

@testable import HostSystem

final class ArchivePolicyTests: XCTestCase {
    private func member(_ path: String, _ type: TarMemberType = .regular, mode: UInt32 = 0o644, link: String = "") -> TarMember {
        TarMember(path: path, type: type, mode: mode, size: 0, linkTarget: link, offset: 0)
    }

    func testModesLoseSetuidSetgidStickyAndGroupOrWorldWrite() {
        let expected: [UInt32: UInt16] = [
            0o4755: 0o755, 0o2755: 0o755, 0o1777: 0o755, 0o777: 0o755, 0o666: 0o644,
            0o644: 0o644, 0o600: 0o600, 0o7777: 0o755, 0o0: 0o0, 0o7_777_777: 0o755,
        ]
        for (stored, mode) in expected {
            XCTAssertEqual(ArchivePolicy.sanitisedMode(stored), mode, String(stored, radix: 8))
        }
    }

    func testArchivePathAcceptsOnlyPlainRelativeNames() {
        XCTAssertEqual(try ArchivePath(validating: "./a/./b/").components, ["a", "b"])
        let refused: [(String, ArchiveRefusal)] = [
            ("", .emptyComponent), ("a//b", .emptyComponent), ("/a", .absolutePath), ("a/../b", .parentDirectoryComponent),
            ("..", .parentDirectoryComponent), ("a\u{0}b", .controlCharacter), ("a\u{7F}", .controlCharacter), (".", .emptyComponent),
            (String(repeating: "n", count: 256), .nameTooLong), (String(repeating: "n/", count: 2048), .nameTooLong),
        ]
        for (text, reason) in refused {
            XCTAssertThrowsError(try ArchivePath(validating: text), text.debugDescription) { XCTAssertEqual($0 as? ArchiveRefusal, reason) }
        }
    }

    func testComponentsAreSplitAtEverySlashByte() throws {
        XCTAssertEqual(
            try ArchivePath(validating: "a/\u{301}b").components.map { Array($0.utf8) },
            [Array("a".utf8), Array("\u{301}b".utf8)])
        XCTAssertNotEqual(try ArchivePath(validating: "caf\u{E9}"), try ArchivePath(validating: "cafe\u{301}"))
    }

    func testStrippedFoldersMustBeTheSameForEveryMember() throws {
        let vetting = MemberVetting(policy: ArchivePolicy(stripComponents: 2))

        XCTAssertEqual(try vetting.vet(member("a/", .directory)), .skip)
        XCTAssertEqual(try vetting.vet(member("a/b/", .directory)), .skip)
        XCTAssertEqual(try vetting.vet(member("a/b/c")), .file(try ArchivePath(validating: "c"), mode: 0o644, size: 0))
        XCTAssertThrowsError(try vetting.vet(member("a/x/c"))) {
            XCTAssertEqual($0 as? ArchiveError, .refused(member: "a/x/c", offset: 0, reason: .outsideTopFolder(expected: "a/b")))
        }
        XCTAssertThrowsError(try vetting.vet(member("a/b"))) {
            XCTAssertEqual(
                $0 as? ArchiveError, .refused(member: "a/b", offset: 0, reason: .outsideTopFolder(expected: "a/b")),
                "a file where the top folder is")
        }
    }

    func testSymlinkMayClimbOnlyAsFarAsItsOwnDepth() throws {
        let vetting = MemberVetting(policy: ArchivePolicy())

        XCTAssertEqual(
            try vetting.vet(member("a/b/up", .symbolicLink, link: "../../x")),
            .symlink(try ArchivePath(validating: "a/b/up"), target: "../../x"))
        XCTAssertThrowsError(try vetting.vet(member("a/b/out", .symbolicLink, link: "../../../x"))) {
            XCTAssertEqual(
                $0 as? ArchiveError,
                .refused(
                    member: "a/b/out", offset: 0,
                    reason: .unsafeSymlinkTarget(target: "../../../x", why: "points outside the tree")))
        }
        XCTAssertThrowsError(try vetting.vet(member("top", .symbolicLink, link: "..")))
        XCTAssertThrowsError(try vetting.vet(member("empty", .symbolicLink, link: "")))
        XCTAssertThrowsError(try vetting.vet(member("nul", .symbolicLink, link: "a\u{0}b")))
    }
}
