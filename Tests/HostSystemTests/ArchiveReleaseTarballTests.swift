// Archives as GNU tar writes release tarballs, read whole through TarGzStream.
import BootstrapTestKit
import Foundation
import XCTest

@testable import HostSystem

final class ArchiveReleaseTarballTests: XCTestCase {
    private static let top = "code-server-4.96.4-linux-amd64"
    /// A node_modules path past ustar's 256 bytes, with one component past 100.
    private static let deepFolder =
        "lib/vscode/node_modules/@vscode/" + String(repeating: "long-package-name-", count: 8)
        + "x/node_modules/another-dependency-with-a-long-name/dist/esm/components/nested"
    private static let deepFile = deepFolder + "/index-with-a-long-file-name.js"

    /// What a release-like tree holds, below its top folder.
    private func releaseEntries() -> [RecordingHandler.Entry] {
        var random = SeededRandom(seed: 7)
        var folders: Set<String> = []
        var entries: [RecordingHandler.Entry] = []
        func file(_ path: String, _ content: [UInt8], mode: UInt16 = 0o644) {
            var parent = path.split(separator: "/").dropLast()
            while !parent.isEmpty {
                folders.insert(parent.joined(separator: "/"))
                parent.removeLast()
            }
            entries.append(.file(path, mode: mode, content: content))
        }
        file("bin/code-server", Array("#!/bin/sh\nexec \"$(dirname \"$0\")/../lib/node\" \"$@\"\n".utf8), mode: 0o755)
        file("lib/node", random.bytes(200_000), mode: 0o755)
        file("lib/empty", [])
        file("lib/one-block", random.bytes(512))
        file("lib/one-block-and-a-byte", random.bytes(513))
        file("lib/vscode/package.json", Array("{\"name\": \"code-oss-dev\"}\n".utf8))
        file("node_modules/@scope/tool/cli.js", Array("#!/usr/bin/env node\n".utf8), mode: 0o755)
        file(Self.deepFile, Array("export {}\n".utf8))
        folders.insert("extensions")
        folders.insert("node_modules/.bin")
        entries += folders.map { .directory($0, mode: 0o755) }
        entries.append(.symlink("node_modules/.bin/tool", target: "../@scope/tool/cli.js"))
        // Over 100 bytes: a GNU 'K' header, or a pax linkpath.
        entries.append(.symlink("lib/vscode/deep-link", target: String(Self.deepFile.dropFirst("lib/vscode/".count))))
        entries.append(.hardLink("lib/node-copy", to: "lib/node"))
        return entries
    }

    /// Writes the entries under top/ in a scratch directory.
    private func writeRelease(_ entries: [RecordingHandler.Entry], into scratch: Scratch) throws {
        for case .directory(let path, let mode) in entries { try scratch.directory("\(Self.top)/\(path)", mode: Int(mode)) }
        for case .file(let path, let mode, let content) in entries { try scratch.file("\(Self.top)/\(path)", content, mode: Int(mode)) }
        for case .symlink(let path, let target) in entries { try scratch.symlink("\(Self.top)/\(path)", to: target) }
        for case .hardLink(let path, let existing) in entries { try scratch.hardLink("\(Self.top)/\(path)", to: "\(Self.top)/\(existing)") }
        // Directory modes once the files are in (umask-independent).
        for case .directory(let path, let mode) in entries { try scratch.directory("\(Self.top)/\(path)", mode: Int(mode)) }
        try scratch.directory(Self.top)
    }

    private func releaseTarball(format: String) throws -> (archive: [UInt8], expected: [RecordingHandler.Entry]) {
        let scratch = try Scratch()
        let expected = releaseEntries()
        try writeRelease(expected, into: scratch)
        let tar = try Fixture.gnuTar(scratch.url, [Self.top], format: format)
        return (try Fixture.gzip(tar), expected)
    }

    private func byPath(_ entries: [RecordingHandler.Entry]) -> [String: RecordingHandler.Entry] {
        Dictionary(
            uniqueKeysWithValues: entries.map { entry in
                switch entry {
                case .directory(let path, _), .file(let path, _, _), .symlink(let path, _), .hardLink(let path, _): return (path, entry)
                }
            })
    }

    // MARK: scenarios

    func testReleaseLikeTarballWithLongNodeModulesPathsIsReadWhole() throws {
        XCTAssertGreaterThan(Self.deepFile.utf8.count + Self.top.utf8.count, 256, "past what ustar can name")
        let (archive, expected) = try releaseTarball(format: "gnu")

        let handler = try readArchive(archive)

        XCTAssertEqual(byPath(handler.entries), byPath(expected))
        XCTAssertEqual(handler.entries.count, expected.count, "each member once, the top folder stripped")
    }

    func testPaxTarballFromGNUTarIsReadTheSame() throws {
        let (archive, expected) = try releaseTarball(format: "posix")

        let handler = try readArchive(archive)

        XCTAssertEqual(byPath(handler.entries), byPath(expected))
    }

    func testUstarTarballWithAPrefixSplitNameIsRead() throws {
        let scratch = try Scratch()
        // Over 100 bytes, so ustar stores it in prefix + name.
        let path = "node_modules/" + String(repeating: "nested-folder/", count: 8) + "file.js"
        try scratch.file("\(Self.top)/\(path)", Array("content\n".utf8))
        let tar = try Fixture.gnuTar(scratch.url, ["\(Self.top)/\(path)"], format: "ustar")
        XCTAssertNotEqual(tar[345], 0, "the name is split into the ustar prefix field")

        let handler = try readArchive(try Fixture.gzip(tar))

        XCTAssertEqual(handler.entries, [.file(path, mode: 0o644, content: Array("content\n".utf8))])
    }

    func testChunkSizesDoNotChangeWhatIsRead() throws {
        let (archive, _) = try releaseTarball(format: "gnu")
        let reference = try readArchive(archive, seed: 1).entries

        for seed in [2, 3, 4] as [UInt64] {
            XCTAssertEqual(try readArchive(archive, seed: seed).entries, reference, "seed \(seed)")
        }
        let handler = RecordingHandler()
        let stream = try TarGzStream(policy: ArchivePolicy(stripComponents: 1), handler: handler)
        for byte in archive { try withUnsafeBytes(of: byte) { try stream.consume($0) } }
        try stream.finish()
        XCTAssertEqual(handler.entries, reference, "one byte at a time")
    }

    func testStandInCodeServerReleaseIsReadWithItsExecutable() throws {
        let scratch = try Scratch()
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let script = repository.appendingPathComponent("Tests/standins/code-server/make-tarball.sh").path
        let printed = try Fixture.run("/bin/bash", [script, "4.96.4", "amd64", scratch.url.path])
        let tarball = String(decoding: printed, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)

        let handler = try readArchive(Array(try Data(contentsOf: URL(fileURLWithPath: tarball))))

        guard case .file(_, let mode, let content)? = handler.entries.first(where: { $0.description.hasPrefix("file bin/code-server ") }) else {
            return XCTFail("no bin/code-server in \(handler.entries)")
        }
        XCTAssertEqual(mode, 0o755)
        XCTAssertTrue(content.starts(with: Array("#!".utf8)))
        XCTAssertTrue(String(decoding: handler.content(of: "package.json") ?? [], as: UTF8.self).contains("\"version\": \"4.96.4\""))
    }

    func testTarballWithSetuidMemberIsReadWithTheBitDropped() throws {
        let scratch = try Scratch()
        try scratch.file("\(Self.top)/bin/helper", Array("#!/bin/sh\n".utf8), mode: 0o4755)
        try scratch.file("\(Self.top)/bin/group-helper", Array("#!/bin/sh\n".utf8), mode: 0o2775)
        try scratch.file("\(Self.top)/shared.txt", Array("x".utf8), mode: 0o666)
        try scratch.directory("\(Self.top)/tmp", mode: 0o1777)
        try scratch.directory("\(Self.top)/bin", mode: 0o2775)
        let tar = try Fixture.gnuTar(scratch.url, [Self.top])
        XCTAssertTrue(
            try Fixture.run("/usr/bin/tar", ["-tvf", "-"], stdin: Data(tar)).contains(Array("rwsr-xr-x".utf8)),
            "the archive does carry the setuid bit")

        let handler = try readArchive(try Fixture.gzip(tar))

        XCTAssertEqual(
            byPath(handler.entries),
            byPath([
                .directory("bin", mode: 0o755),
                .file("bin/helper", mode: 0o755, content: Array("#!/bin/sh\n".utf8)),
                .file("bin/group-helper", mode: 0o755, content: Array("#!/bin/sh\n".utf8)),
                .file("shared.txt", mode: 0o644, content: Array("x".utf8)),
                .directory("tmp", mode: 0o755),
            ]))
    }

    func testSparseFileFromGNUTarFailsTheArchive() throws {
        let scratch = try Scratch()
        try scratch.directory(Self.top)
        let sparse = scratch.url.appendingPathComponent("\(Self.top)/disk.img")
        try Fixture.run("/usr/bin/truncate", ["-s", "1M", sparse.path])
        for format in ["gnu", "posix"] {
            let tar = try Fixture.gnuTar(scratch.url, [Self.top], format: format, options: ["--sparse"])

            let refused = refusal(try Fixture.gzip(tar))

            XCTAssertEqual(refused?.reason, .unsupportedType(.sparse), format)
            XCTAssertTrue(refused?.member.hasSuffix("disk.img") ?? false, "\(format): \(String(describing: refused))")
        }
    }

    func testConcatenatedGzipMembersAreReadAsOneStream() throws {
        let (archive, expected) = try releaseTarball(format: "gnu")
        let tar = try Fixture.run("/usr/bin/gzip", ["-d", "-c"], stdin: Data(archive))
        let cut = tar.count / 3

        let handler = try readArchive(try Fixture.gzip(Array(tar[..<cut])) + Fixture.gzip(Array(tar[cut...])))

        XCTAssertEqual(byPath(handler.entries), byPath(expected))
    }

    func testRestartAfterAPartialDownloadReadsTheArchiveWhole() throws {
        let (archive, expected) = try releaseTarball(format: "gnu")
        let firstTry = RecordingHandler(), secondTry = RecordingHandler()
        final class Switch: TarEntryHandler {
            var target: RecordingHandler
            init(_ target: RecordingHandler) { self.target = target }
            func directory(_ path: ArchivePath, mode: UInt16) throws { try target.directory(path, mode: mode) }
            func beginFile(_ path: ArchivePath, mode: UInt16, size: Int64) throws { try target.beginFile(path, mode: mode, size: size) }
            func fileData(_ bytes: UnsafeRawBufferPointer) throws { try target.fileData(bytes) }
            func endFile() throws { try target.endFile() }
            func symlink(_ path: ArchivePath, target: String) throws { try self.target.symlink(path, target: target) }
            func hardLink(_ path: ArchivePath, to existing: ArchivePath) throws { try target.hardLink(path, to: existing) }
        }
        let handler = Switch(firstTry)
        let stream = try TarGzStream(policy: ArchivePolicy(stripComponents: 1), handler: handler)
        try archive.withUnsafeBytes { try stream.consume(UnsafeRawBufferPointer(rebasing: $0[..<(archive.count / 2)])) }
        XCTAssertFalse(firstTry.entries.isEmpty)

        // The server would not resume: the whole file again, from byte 0.
        try stream.restart()
        handler.target = secondTry
        try archive.withUnsafeBytes { try stream.consume($0) }
        try stream.finish()

        XCTAssertEqual(byPath(secondTry.entries), byPath(expected))
        XCTAssertEqual(secondTry.contractViolations, [])
    }
}
