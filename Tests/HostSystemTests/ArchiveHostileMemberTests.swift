// Hostile archives (written by Python's tarfile) against the policy: each
// one fails the whole archive, naming the member, or is read with what
// makes it dangerous taken out.
import Foundation
import XCTest

@testable import HostSystem

final class ArchiveHostileMemberTests: XCTestCase {
    private let okFile = FixtureMember.file("pkg/ok", "fine")

    // MARK: names

    func testMemberWithDotDotIsRefused() throws {
        let archive = try Fixture.tarfile([.directory("pkg/"), okFile, .file("pkg/../../etc/cron.d/evil", "* * * * * root sh")])

        let (error, handler) = archiveError(archive)

        // Headers at 0 and 512 (plus one data block): the third is at 1536.
        XCTAssertEqual(error, .refused(member: "pkg/../../etc/cron.d/evil", offset: 1536, reason: .parentDirectoryComponent))
        XCTAssertEqual(handler.paths, ["ok"], "nothing after the refused member")
        XCTAssertEqual(
            String(describing: error!),
            #"refusing the archive: member "pkg/../../etc/cron.d/evil" at offset 1536 has a '..' component in its path"#)
    }

    func testAbsoluteMemberNameIsRefused() throws {
        let archive = try Fixture.tarfile([.file("/etc/passwd", "root::0:0::/root:/bin/sh")])

        XCTAssertEqual(refusal(archive, policy: ArchivePolicy(stripComponents: 0))?.reason, .absolutePath)
        XCTAssertEqual(refusal(archive, policy: ArchivePolicy(stripComponents: 1))?.reason, .absolutePath)
    }

    func testNulOrControlCharacterInANameIsRefusedAndEscapedInTheMessage() throws {
        let withNul = try Fixture.tarfile([FixtureMember(name: "pkg/a", data: "x", pax: ["path": "pkg/a\u{0}b"])], format: .pax)
        let withNewline = try Fixture.tarfile([.file("pkg/forged\nlog line", "x")])

        XCTAssertEqual(refusal(withNul)?.reason, .controlCharacter)
        let (error, _) = archiveError(withNewline)
        XCTAssertEqual(error, .refused(member: "pkg/forged\nlog line", offset: 0, reason: .controlCharacter))
        XCTAssertFalse(String(describing: error!).contains("\n"))
        XCTAssertTrue(String(describing: error!).contains(#""pkg/forged\u{A}log line""#))
    }

    func testNamesAreComparedAsBytesNotAsEquivalentUnicode() throws {
        let composed = "pkg/caf\u{E9}", decomposed = "pkg/cafe\u{301}"
        XCTAssertEqual(composed, decomposed, "equal as Swift Strings")
        let archive = try Fixture.tarfile([.file(composed, "1"), .file(decomposed, "2"), .hardLink("pkg/link", to: decomposed)])

        let handler = try readArchive(archive)

        XCTAssertEqual(
            handler.paths.map { Array($0.utf8) }, [composed, decomposed, "pkg/link"].map { Array($0.dropFirst(4).utf8) },
            "two files, as on disk")
        guard case .hardLink(_, let existing)? = handler.entries.last else { return XCTFail() }
        XCTAssertEqual(Array(existing.utf8), Array("cafe\u{301}".utf8))
    }

    func testSlashBeforeACombiningMarkStillSeparatesComponents() throws {
        // "/" + U+0301 is one Character: a String split would miss the slash.
        let archive = try Fixture.tarfile([.symlink("pkg/evil", to: "../\u{301}etc")])

        XCTAssertEqual(refusal(archive)?.reason, .unsafeSymlinkTarget(target: "../\u{301}etc", why: "points outside the tree"))
    }

    func testC1ControlCharacterInANameIsRefused() throws {
        XCTAssertEqual(refusal(try Fixture.tarfile([.file("pkg/a\u{9B}31mb", "x")]))?.reason, .controlCharacter)
    }

    func testNameThatIsNotUTF8IsAnError() throws {
        let archive = try Fixture.tarfile([FixtureMember(nameHex: "706b672fff", data: "x")])  // "pkg/\xff"

        guard case .malformed(_, 0, let reason)? = archiveError(archive).error else { return XCTFail() }
        XCTAssertEqual(reason, "the name is not valid UTF-8")
    }

    func testRepeatedPathIsRefusedButARepeatedDirectoryIsNot() throws {
        XCTAssertEqual(refusal(try Fixture.tarfile([okFile, okFile]))?.reason, .duplicatePath)
        XCTAssertEqual(refusal(try Fixture.tarfile([.directory("pkg/d"), .file("pkg/d", "now a file")]))?.reason, .duplicatePath)
        XCTAssertEqual(refusal(try Fixture.tarfile([okFile, .file("pkg/ok/below", "x")]))?.reason, .underNonDirectory("ok"))

        let handler = try readArchive(try Fixture.tarfile([.directory("pkg/d"), .file("pkg/d/f", "x"), .directory("pkg/d/", mode: 0o700)]))
        XCTAssertEqual(handler.paths, ["d", "d/f", "d"])
    }

    func testMemberOutsideTheTopFolderIsRefused() throws {
        let twoTops = try Fixture.tarfile([.directory("pkg/"), okFile, .file("other/x", "x")])
        let fileAtTheTop = try Fixture.tarfile([.file("README", "x"), okFile])

        XCTAssertEqual(refusal(twoTops)?.reason, .outsideTopFolder(expected: "pkg"))
        XCTAssertEqual(refusal(fileAtTheTop)?.reason, .outsideTopFolder(expected: ""))
        let stripTwo = ArchivePolicy(stripComponents: 2)
        XCTAssertEqual(try readArchive(try Fixture.tarfile([.file("pkg/x/y", "y"), .file("pkg/x/z", "z")]), policy: stripTwo).paths, ["y", "z"])
        XCTAssertEqual(
            refusal(try Fixture.tarfile([.file("pkg/x/y", "y"), .file("pkg/w/z", "z")]), policy: stripTwo)?.reason,
            .outsideTopFolder(expected: "pkg/x"))
    }

    // MARK: symlinks

    func testSymlinkPointingOutOfTheTreeIsRefused() throws {
        let archive = try Fixture.tarfile([.directory("pkg/lib/"), .symlink("pkg/lib/evil", to: "../../etc")])

        let refused = refusal(archive)

        XCTAssertEqual(refused?.member, "pkg/lib/evil")
        XCTAssertEqual(refused?.offset, 512)
        XCTAssertEqual(refused?.reason, .unsafeSymlinkTarget(target: "../../etc", why: "points outside the tree"))
    }

    func testAbsoluteSymlinkIsRefused() throws {
        let archive = try Fixture.tarfile([.symlink("pkg/shadow", to: "/etc/shadow")])

        XCTAssertEqual(refusal(archive)?.reason, .unsafeSymlinkTarget(target: "/etc/shadow", why: "is absolute"))
    }

    func testSymlinkClimbingOutThroughAnotherSymlinkIsRefused() throws {
        // Lexically q/.. is the tree's root; on disk q is the root, so q/.. is its parent.
        let archive = try Fixture.tarfile([.symlink("pkg/q", to: "."), .symlink("pkg/p", to: "q/..")])

        let (error, handler) = archiveError(archive)

        XCTAssertEqual(
            error,
            .refused(
                member: "pkg/p", offset: 512,
                reason: .unsafeSymlinkTarget(
                    target: "q/..", why: "has '..' after a name, which could climb out through another symlink")))
        XCTAssertEqual(handler.entries, [.symlink("q", target: ".")])
    }

    func testMemberUnderAnEarlierSymlinkIsRefused() throws {
        let archive = try Fixture.tarfile([.directory("pkg/lib/"), .symlink("pkg/s", to: "lib"), .file("pkg/s/planted", "x")])

        XCTAssertEqual(refusal(archive)?.reason, .underNonDirectory("s"))
    }

    func testSymlinksInsideTheTreeAreKeptNormalised() throws {
        let archive = try Fixture.tarfile([
            .symlink("pkg/lib/a", to: "./x//y"), .symlink("pkg/lib/b", to: "../bin/tool"), .symlink("pkg/root", to: "."),
        ])

        let handler = try readArchive(archive)

        XCTAssertEqual(handler.entries, [.symlink("lib/a", target: "x/y"), .symlink("lib/b", target: "../bin/tool"), .symlink("root", target: ".")])
    }

    // MARK: hard links

    func testHardLinkToAFileOutsideTheArchiveIsRefused() throws {
        for target in ["/etc/shadow", "../etc/shadow", "pkg/../etc/shadow", "etc/shadow", "pkg/etc/shadow"] {
            let archive = try Fixture.tarfile([okFile, .hardLink("pkg/shadow", to: target)])

            XCTAssertEqual(refusal(archive)?.reason, .hardLinkTargetNotAnEarlierFile(target), target)
        }
    }

    func testHardLinkToALaterFileOrToSomethingElseIsRefused() throws {
        let later = try Fixture.tarfile([.hardLink("pkg/h", to: "pkg/later"), .file("pkg/later", "x")])
        let directory = try Fixture.tarfile([.directory("pkg/d"), .hardLink("pkg/h", to: "pkg/d")])
        let symlink = try Fixture.tarfile([.symlink("pkg/s", to: "ok"), okFile, .hardLink("pkg/h", to: "pkg/s")])
        let itself = try Fixture.tarfile([.hardLink("pkg/h", to: "pkg/h")])

        XCTAssertEqual(refusal(later)?.reason, .hardLinkTargetNotAnEarlierFile("pkg/later"))
        XCTAssertEqual(refusal(directory)?.reason, .hardLinkTargetNotAnEarlierFile("pkg/d"))
        XCTAssertEqual(refusal(symlink)?.reason, .hardLinkTargetNotAnEarlierFile("pkg/s"))
        XCTAssertEqual(refusal(itself)?.reason, .hardLinkTargetNotAnEarlierFile("pkg/h"))
    }

    func testHardLinkToAnEarlierFileIsKept() throws {
        let archive = try Fixture.tarfile([okFile, .hardLink("pkg/again", to: "pkg/ok"), .hardLink("pkg/third", to: "pkg/again")])

        let handler = try readArchive(archive)

        XCTAssertEqual(handler.entries, [.file("ok", mode: 0o644, content: Array("fine".utf8)), .hardLink("again", to: "ok"), .hardLink("third", to: "again")])
    }

    // MARK: types

    func testDeviceNodeFailsTheArchive() throws {
        let kinds: [(String, TarMemberType)] = [
            ("3", .characterDevice), ("4", .blockDevice), ("6", .fifo), ("7", .contiguous), ("V", .other(typeflag: UInt8(ascii: "V"))),
        ]
        for (typeflag, type) in kinds {
            let archive = try Fixture.tarfile([okFile, .special("pkg/dev/node", type: typeflag), .file("pkg/after", "x")])

            let (error, handler) = archiveError(archive)

            XCTAssertEqual(error, .refused(member: "pkg/dev/node", offset: 1024, reason: .unsupportedType(type)), typeflag)
            XCTAssertEqual(handler.paths, ["ok"], "nothing after it is created")
        }
        let (error, _) = archiveError(try Fixture.tarfile([.special("pkg/sda", type: "4")]))
        XCTAssertEqual(
            String(describing: error!), #"refusing the archive: member "pkg/sda" at offset 0 is a block device, which a release tarball never contains"#)
    }

    // MARK: limits

    func testTooManyEntriesStopTheArchive() throws {
        let many = try Fixture.tarfile((0..<10).map { .file("pkg/f\($0)", "x") })
        let deep = try Fixture.tarfile([.file("pkg/a/b/c/d/e/f", "x")])

        XCTAssertEqual(refusal(many, policy: ArchivePolicy(stripComponents: 1, maxEntries: 5))?.member, "pkg/f5")
        XCTAssertEqual(
            refusal(deep, policy: ArchivePolicy(stripComponents: 1, maxEntries: 5))?.reason, .tooManyEntries(limit: 5),
            "the parent folders a member implies count")
        XCTAssertEqual(try readArchive(deep, policy: ArchivePolicy(stripComponents: 1, maxEntries: 6)).paths, ["a/b/c/d/e/f"])
    }

    func testFileOverTheUnpackedCapIsRefusedBeforeItsData() throws {
        let archive = try Fixture.tarfile([.file("pkg/small", String(repeating: "s", count: 600)), FixtureMember(name: "pkg/big", zeros: 600)])

        let (error, handler) = archiveError(archive, policy: ArchivePolicy(stripComponents: 1, maxUnpackedBytes: 1000))

        XCTAssertEqual(error, .refused(member: "pkg/big", offset: 1536, reason: .unpackedSizeLimit(limit: 1000)))
        XCTAssertEqual(handler.fileBytes, 600, "not one byte of pkg/big")
    }

    func testExtensionHeaderOverTheCapIsAnError() throws {
        let policy = ArchivePolicy(stripComponents: 1, maxExtensionBytes: 1024)
        let pax = try Fixture.tarfile([FixtureMember(name: "pkg/a", data: "x", pax: ["comment": String(repeating: "c", count: 2000)])], format: .pax)
        let longName = try Fixture.tarfile([.file("pkg/" + String(repeating: "n/", count: 600) + "f", "x")], format: .gnu)

        for archive in [pax, longName] {
            guard case .malformed(_, 0, let reason)? = archiveError(archive, policy: policy).error else {
                XCTFail()
                continue
            }
            XCTAssertTrue(reason.hasSuffix("bytes is over the 1024-byte limit"), reason)
        }
    }
}
