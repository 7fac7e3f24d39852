// The tar and gzip layers: formats read exactly, malformed or cut input an
// error that names where, limits that hold.
import Foundation
import XCTest

@testable import HostSystem

final class ArchiveFormatTests: XCTestCase {
    private static func hex(_ text: String) -> String { text.utf8.map { String(format: "%02x", $0) }.joined() }

    /// Rewrites the checksum of the header at `offset` as old writers did, summing signed chars.
    private static func writeSignedChecksum(_ tar: inout [UInt8], header offset: Int) {
        var sum = 8 * 32
        for index in offset..<(offset + 512) where !((offset + 148)..<(offset + 156)).contains(index) {
            sum += Int(Int8(bitPattern: tar[index]))
        }
        let field = Array(String(format: "%06o", sum).utf8) + [0, 32]
        tar.replaceSubrange((offset + 148)..<(offset + 156), with: field)
    }

    // MARK: formats

    func testPaxRecordsOverrideTheNameTheLinkAndTheSize() throws {
        let longName = "pkg/" + String(repeating: "folder-", count: 20) + "/" + String(repeating: "name-", count: 30) + ".js"
        let longTarget = String(repeating: "t", count: 150)
        // The header says 0 bytes; only the pax record says 5.
        let sized = FixtureMember(
            name: "pkg/sized", data: "hello", pax: ["size": "5"],
            patches: [HeaderPatch(at: 124, hex: Self.hex("00000000000") + "00")])
        let archive = try Fixture.tarfile([.file(longName, "long"), .symlink("pkg/link", to: longTarget), sized], format: .pax)

        let handler = try readArchive(archive)

        XCTAssertEqual(
            handler.entries,
            [
                .file(String(longName.dropFirst(4)), mode: 0o644, content: Array("long".utf8)),
                .symlink("link", target: longTarget),
                .file("sized", mode: 0o644, content: Array("hello".utf8)),
            ])
    }

    func testPaxGlobalHeaderIsParsedAndIgnored() throws {
        let archive = try Fixture.tarfile([okFile], format: .pax, globalPax: ["comment": "built by CI", "path": "ignored"])

        XCTAssertEqual(try readArchive(archive).paths, ["ok"])
    }

    func testMalformedPaxRecordIsAnError() throws {
        var tar = try Fixture.tarfile([FixtureMember(name: "pkg/a", data: "x", pax: ["comment": "hello"])], format: .pax, gzip: false)
        // "17 comment=hello\n" becomes "99 ...": longer than the header's data.
        guard let end = tar.firstRange(of: Array(" comment=hello\n".utf8))?.lowerBound else { return XCTFail("no pax record") }
        tar.replaceSubrange((end - 2)..<end, with: Array("99".utf8))

        let (error, _) = archiveError(try Fixture.gzip(tar))

        XCTAssertEqual(error, .malformed(member: nil, offset: 0, reason: "pax record at byte 0 has a wrong length 99"))
    }

    func testGNULongNameAndLongLinkNameAreApplied() throws {
        let longName = "pkg/" + String(repeating: "n", count: 150)
        let longTarget = String(repeating: "t", count: 150)
        let archive = try Fixture.tarfile([.file(longName, "x"), .symlink("pkg/link", to: longTarget)], format: .gnu, gzip: false)
        XCTAssertNotNil(archive.firstRange(of: Array("././@LongLink".utf8)))

        let handler = try readArchive(try Fixture.gzip(archive))

        XCTAssertEqual(
            handler.entries,
            [
                .file(String(longName.dropFirst(4)), mode: 0o644, content: [UInt8(ascii: "x")]),
                .symlink("link", target: longTarget),
            ])
    }

    func testPrePosixDirectoryWithATrailingSlashIsADirectory() throws {
        let archive = try Fixture.tarfile([FixtureMember(name: "pkg/old/", type: "\u{0}", mode: 0o755)])

        XCTAssertEqual(try readArchive(archive).entries, [.directory("old", mode: 0o755)])
    }

    func testBase256SizeIsRead() throws {
        let member = FixtureMember(name: "pkg/b256", data: "hello", patches: [HeaderPatch(at: 124, hex: "80" + String(repeating: "00", count: 10) + "05")])

        let handler = try readArchive(try Fixture.tarfile([member]))

        XCTAssertEqual(handler.content(of: "b256"), Array("hello".utf8))
    }

    func testNegativeOversizedOrGarbledSizeIsAnError() throws {
        let fields = [
            ("ff" + String(repeating: "ff", count: 11), "negative base-256 size"),
            ("80" + String(repeating: "ff", count: 11), "base-256 size does not fit in 63 bits"),
            (Self.hex("0000000x005") + "00", #"size field "0000000x005\u{0}" is not octal"#),
        ]
        for (field, reason) in fields {
            let member = FixtureMember(name: "pkg/f", data: "hello", patches: [HeaderPatch(at: 124, hex: field)])

            XCTAssertEqual(archiveError(try Fixture.tarfile([okFile, member])).error, .malformed(member: "pkg/f", offset: 1024, reason: reason))
        }
    }

    func testCorruptHeaderChecksumIsAnError() throws {
        let member = FixtureMember(name: "pkg/f", data: "hello", patches: [HeaderPatch(at: 4, hex: Self.hex("g"), checksum: false)])

        guard case .malformed("pkg/g", 1024, let reason)? = archiveError(try Fixture.tarfile([okFile, member])).error else {
            return XCTFail()
        }
        XCTAssertTrue(reason.hasPrefix("header checksum is "), reason)
    }

    func testSignedChecksumOfOldWritersIsAccepted() throws {
        var tar = try Fixture.tarfile([.file("pkg/café", "x")], gzip: false)
        Self.writeSignedChecksum(&tar, header: 0)

        XCTAssertEqual(try readArchive(try Fixture.gzip(tar)).paths, ["café"])
    }

    func testDirectoryWithDataIsAnError() throws {
        let member = FixtureMember(name: "pkg/d/", type: "5", mode: 0o755, patches: [HeaderPatch(at: 124, hex: Self.hex("00000000012") + "00")])

        XCTAssertEqual(
            archiveError(try Fixture.tarfile([member])).error,
            .malformed(member: "pkg/d/", offset: 0, reason: "a directory with a size of 10 bytes"))
    }

    // MARK: endings

    func testEmptyArchiveIsReadAsNothing() throws {
        XCTAssertEqual(try readArchive(try Fixture.gzip([UInt8](repeating: 0, count: 1024))).entries, [])
    }

    func testTruncatedGzipIsAnError() throws {
        let archive = try Fixture.tarfile([okFile, FixtureMember(name: "pkg/big", zeros: 100_000)])
        for cut in [archive.count / 2, archive.count - 8, archive.count - 1] {
            guard case .truncated(let reason)? = archiveError(Array(archive[..<cut])).error else {
                XCTFail("cut at \(cut)")
                continue
            }
            XCTAssertTrue(reason.hasPrefix("the gzip data ends after \(cut) bytes"), reason)
        }
        XCTAssertEqual(archiveError([]).error, .truncated(reason: "there is no gzip data"))
    }

    func testTarCutShortInsideACompleteGzipIsAnError() throws {
        let tar = try Fixture.tarfile([okFile, FixtureMember(name: "pkg/big", zeros: 100_000)], gzip: false)

        XCTAssertEqual(
            archiveError(try Fixture.gzip(Array(tar[..<50_000]))).error,
            .truncated(reason: #"the tar stream ended inside member "pkg/big" (offset 1024), after 50000 bytes"#))
        // Everything but the two zero blocks.
        let ending = 1024 + 512 + 100_352
        XCTAssertEqual(
            archiveError(try Fixture.gzip(Array(tar[..<ending]))).error,
            .truncated(reason: "the tar stream ended after \(ending) bytes, before its two end-of-archive zero blocks"))
        XCTAssertEqual(
            archiveError(try Fixture.gzip(Array(tar[..<(ending + 512)]))).error,
            .truncated(reason: "the tar stream ended after \(ending + 512) bytes, before its two end-of-archive zero blocks"))
    }

    func testLoneZeroBlockInsideTheArchiveIsAnError() throws {
        var tar = try Fixture.tarfile([okFile, .file("pkg/next", "x")], gzip: false)
        tar.insert(contentsOf: [UInt8](repeating: 0, count: 512), at: 1024)

        XCTAssertEqual(
            archiveError(try Fixture.gzip(tar)).error,
            .malformed(member: nil, offset: 1024, reason: "a single zero block inside the archive (only two in a row end it)"))
    }

    func testDataAfterTheEndOfArchiveIsAnError() throws {
        let tar = try Fixture.tarfile([okFile], gzip: false, trim: true)
        XCTAssertEqual(tar.count, 2048)

        XCTAssertEqual(
            archiveError(try Fixture.gzip(tar + [0, 0, 7])).error,
            .malformed(member: nil, offset: 2050, reason: "non-zero bytes after the end-of-archive blocks"))
        XCTAssertEqual(try readArchive(try Fixture.gzip(tar + [UInt8](repeating: 0, count: 9000))).paths, ["ok"], "zero padding is fine")
    }

    func testTrailingGarbageAfterTheGzipDataIsAnError() throws {
        let archive = try Fixture.tarfile([okFile])
        for trailer in [Array("garbage!".utf8), [0, 0, 0, 0]] {
            guard case .corruptGzip(_, let offset)? = archiveError(archive + trailer).error else {
                XCTFail("\(trailer)")
                continue
            }
            XCTAssertGreaterThanOrEqual(offset, Int64(archive.count))
        }
    }

    func testCorruptGzipIsAnError() throws {
        var badMagic = try Fixture.tarfile([okFile])
        badMagic[0] ^= 0xFF
        var badCRC = try Fixture.tarfile([okFile])
        badCRC[badCRC.count - 6] ^= 0x01

        XCTAssertEqual(archiveError(badMagic).error, .corruptGzip(reason: "incorrect header check", compressedOffset: 2))
        guard case .corruptGzip("incorrect data check", _)? = archiveError(badCRC).error else { return XCTFail() }
    }

    // MARK: limits and errors

    func testGzipBombStopsAtTheCap() throws {
        let size = 64 << 20, cap: Int64 = 8 << 20
        let bomb = try Fixture.tarfile([FixtureMember(name: "pkg/zeros", zeros: size)])
        XCTAssertLessThan(bomb.count, size / 500, "over 500:1")

        let (error, handler) = archiveError(bomb, policy: ArchivePolicy(stripComponents: 1, maxDecompressedBytes: cap))

        guard case .decompressedSizeLimit(cap, let offset)? = error else { return XCTFail("\(String(describing: error))") }
        XCTAssertLessThan(offset, Int64(bomb.count), "stopped before the end of the compressed data")
        XCTAssertLessThanOrEqual(handler.fileBytes, cap)
        XCTAssertGreaterThan(handler.fileBytes, cap - (1 << 20), "it did decompress up to the cap")
    }

    func testStreamErrorIsStickyUntilRestart() throws {
        let bad = try Fixture.tarfile([.file("../escape", "x")])
        let good = try Fixture.tarfile([okFile])
        let handler = RecordingHandler()
        let stream = try TarGzStream(policy: ArchivePolicy(stripComponents: 1), handler: handler)

        XCTAssertThrowsError(try bad.withUnsafeBytes { try stream.consume($0) })
        XCTAssertThrowsError(try good.withUnsafeBytes { try stream.consume($0) }) {
            XCTAssertEqual($0 as? ArchiveError, .refused(member: "../escape", offset: 0, reason: .parentDirectoryComponent))
        }
        XCTAssertThrowsError(try stream.finish())

        try stream.restart()
        try good.withUnsafeBytes { try stream.consume($0) }
        try stream.finish()
        XCTAssertEqual(handler.paths, ["ok"])
    }

    func testHandlerErrorStopsTheStreamAsIs() throws {
        struct DiskFull: Error, Equatable {}
        final class FailingHandler: TarEntryHandler {
            func directory(_ path: ArchivePath, mode: UInt16) throws {}
            func beginFile(_ path: ArchivePath, mode: UInt16, size: Int64) throws {}
            func fileData(_ bytes: UnsafeRawBufferPointer) throws { throw DiskFull() }
            func endFile() throws {}
            func symlink(_ path: ArchivePath, target: String) throws {}
            func hardLink(_ path: ArchivePath, to existing: ArchivePath) throws {}
        }
        let stream = try TarGzStream(policy: ArchivePolicy(stripComponents: 1), handler: FailingHandler())

        XCTAssertThrowsError(try Fixture.tarfile([okFile]).withUnsafeBytes { try stream.consume($0) }) {
            XCTAssertEqual($0 as? DiskFull, DiskFull())
        }
    }

    private let okFile = FixtureMember.file("pkg/ok", "fine")
}
