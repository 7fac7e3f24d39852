// Real archives for the archive tests: GNU tar for what release tarballs
// look like, Python's tarfile for hostile ones (it writes devices, setuid
// bits, "../" and absolute names, any link target, pax records), both run
// as processes into a scratch directory.
import BootstrapTestKit
import Foundation
import XCTest

@testable import HostSystem

/// A member for Python's tarfile to write, exactly as given.
struct FixtureMember: Encodable {
    var name: String?
    /// Raw name bytes in hex, for names that are not UTF-8.
    var nameHex: String?
    var type = "0"
    var mode = 0o644
    var data: String?
    /// A file of this many zero bytes instead of `data`.
    var zeros: Int?
    var linkname: String?
    var pax: [String: String]?
    var devmajor: Int?
    var devminor: Int?
    /// Byte changes in the member's own header block after writing.
    var patches: [HeaderPatch]?

    static func file(_ name: String, _ data: String = "", mode: Int = 0o644) -> Self {
        Self(name: name, mode: mode, data: data)
    }
    static func directory(_ name: String, mode: Int = 0o755) -> Self { Self(name: name, type: "5", mode: mode) }
    static func symlink(_ name: String, to target: String) -> Self { Self(name: name, type: "2", mode: 0o777, linkname: target) }
    static func hardLink(_ name: String, to target: String) -> Self { Self(name: name, type: "1", linkname: target) }
    static func special(_ name: String, type: String) -> Self { Self(name: name, type: type, devmajor: 1, devminor: 3) }
}

struct HeaderPatch: Encodable {
    /// Offset inside the 512-byte header block.
    var at: Int
    var hex: String
    /// Whether the checksum is recomputed afterwards.
    var checksum = true
}

enum Fixture {
    enum Format: String, Encodable { case gnu, pax, ustar }

    private struct Spec: Encodable {
        var format: Format
        var members: [FixtureMember]
        var globalPax: [String: String]?
        var gzip: Bool
        var trim: Bool
    }

    /// Writes `members` with tarfile; gzip-compressed unless `gzip` is
    /// false. `trim` drops the zero padding after the two end blocks.
    static func tarfile(
        _ members: [FixtureMember], format: Format = .gnu, globalPax: [String: String]? = nil,
        gzip: Bool = true, trim: Bool = false
    ) throws -> [UInt8] {
        // Sorted keys: pax records in a fixed order (Swift's dictionary order changes from run to run).
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let spec = try encoder.encode(Spec(format: format, members: members, globalPax: globalPax, gzip: gzip, trim: trim))
        return try run("/usr/bin/python3", ["-c", tarfileWriter], stdin: spec)
    }

    /// Runs GNU tar on `paths` under `directory` in `format` (gnu, posix
    /// or ustar), reproducibly (owners and times fixed, names sorted, no
    /// pax atime or ctime); returns the archive.
    static func gnuTar(_ directory: URL, _ paths: [String], format: String = "gnu", options: [String] = []) throws -> [UInt8] {
        let reproducible = format == "posix" ? ["--pax-option=delete=atime,delete=ctime"] : []
        return try run(
            "/usr/bin/tar",
            [
                "-C", directory.path, "--format=\(format)", "--sort=name", "--owner=0", "--group=0",
                "--numeric-owner", "--mtime=@0", "-cf", "-",
            ] + reproducible + options + paths)
    }

    static func gzip(_ bytes: [UInt8]) throws -> [UInt8] {
        try run("/usr/bin/gzip", ["-n", "-c"], stdin: Data(bytes))
    }

    /// Runs a tool, returns its standard output; throws with its standard
    /// error when it fails.
    @discardableResult
    static func run(_ tool: String, _ arguments: [String], stdin: Data? = nil, in directory: URL? = nil) throws -> [UInt8] {
        let scratch = try Scratch()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = directory }
        let input = scratch.url.appendingPathComponent("stdin"), output = scratch.url.appendingPathComponent("stdout")
        let errors = scratch.url.appendingPathComponent("stderr")
        try (stdin ?? Data()).write(to: input)
        _ = FileManager.default.createFile(atPath: output.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errors.path, contents: nil)
        process.standardInput = try FileHandle(forReadingFrom: input)
        process.standardOutput = try FileHandle(forWritingTo: output)
        process.standardError = try FileHandle(forWritingTo: errors)
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            let message = (try? String(contentsOf: errors, encoding: .utf8)) ?? ""
            throw FixtureError("\(tool) \(arguments.prefix(3).joined(separator: " ")) exited \(process.terminationStatus): \(message)")
        }
        return Array(try Data(contentsOf: output))
    }

    private static let tarfileWriter = #"""
        import gzip, io, json, sys, tarfile
        spec = json.load(sys.stdin)
        formats = {"gnu": tarfile.GNU_FORMAT, "pax": tarfile.PAX_FORMAT, "ustar": tarfile.USTAR_FORMAT}
        buffer = io.BytesIO()
        archive = tarfile.open(fileobj=buffer, mode="w", format=formats[spec["format"]], pax_headers=spec.get("globalPax") or None)
        patches = []
        for member in spec["members"]:
            if member.get("nameHex") is not None:
                name = bytes.fromhex(member["nameHex"]).decode("utf-8", "surrogateescape")
            else:
                name = member["name"]
            info = tarfile.TarInfo(name)
            info.type = member["type"].encode()
            info.mode = member["mode"]
            info.mtime = 0
            info.linkname = member.get("linkname") or ""
            info.devmajor = member.get("devmajor") or 0
            info.devminor = member.get("devminor") or 0
            info.pax_headers = member.get("pax") or {}
            data = None
            if member.get("zeros") is not None:
                data = bytes(member["zeros"])
            elif member.get("data") is not None:
                data = member["data"].encode()
            size = len(data) if data is not None else 0
            info.size = size
            archive.addfile(info, io.BytesIO(data) if data is not None else None)
            header = archive.offset - 512 - (size + 511) // 512 * 512
            for patch in member.get("patches") or []:
                patches.append((header, patch))
        archive.close()
        raw = bytearray(buffer.getvalue())
        for header, patch in patches:
            replacement = bytes.fromhex(patch["hex"])
            start = header + patch["at"]
            raw[start:start + len(replacement)] = replacement
            if patch.get("checksum", True):
                raw[header + 148:header + 156] = b" " * 8
                raw[header + 148:header + 156] = b"%06o\0 " % sum(raw[header:header + 512])
        if spec["trim"]:
            end = len(raw.rstrip(b"\0"))
            raw = raw[:(end + 511) // 512 * 512 + 1024]
        sys.stdout.buffer.write(gzip.compress(bytes(raw), mtime=0) if spec["gzip"] else bytes(raw))
        """#
}

struct FixtureError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A temporary directory, removed when the value goes away.
final class Scratch {
    let url: URL
    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("archive-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(at: url) }

    /// Writes a file (parents created) with exactly `mode`.
    func file(_ path: String, _ content: [UInt8], mode: Int = 0o644) throws {
        let target = url.appendingPathComponent(path)
        try FileManager.default.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(content).write(to: target)
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: target.path)
    }

    func directory(_ path: String, mode: Int = 0o755) throws {
        let target = url.appendingPathComponent(path)
        try FileManager.default.createDirectory(at: target, withIntermediateDirectories: true)
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: target.path)
    }

    func symlink(_ path: String, to target: String) throws {
        try FileManager.default.createSymbolicLink(atPath: url.appendingPathComponent(path).path, withDestinationPath: target)
    }

    func hardLink(_ path: String, to existing: String) throws {
        try FileManager.default.linkItem(atPath: url.appendingPathComponent(existing).path, toPath: url.appendingPathComponent(path).path)
    }
}

extension SeededRandom {
    /// Chunk boundaries as a download might deliver them: tiny, around a
    /// block, or large, mixed.
    mutating func chunks(of count: Int) -> [Range<Int>] {
        var ranges: [Range<Int>] = []
        var start = 0
        while start < count {
            let limit = [16, 1024, 70_000][Int.random(in: 0..<3, using: &self)]
            let end = min(count, start + Int.random(in: 1...limit, using: &self))
            ranges.append(start..<end)
            start = end
        }
        return ranges
    }
}

/// Records what TarGzStream hands out, and whether the calls kept their
/// contract (beginFile .. fileData adding up to the size .. endFile).
final class RecordingHandler: TarEntryHandler {
    enum Entry: Equatable, CustomStringConvertible {
        case directory(String, mode: UInt16)
        case file(String, mode: UInt16, content: [UInt8])
        case symlink(String, target: String)
        case hardLink(String, to: String)

        var description: String {
            switch self {
            case .directory(let path, let mode): return "dir \(path) \(String(mode, radix: 8))"
            case .file(let path, let mode, let content): return "file \(path) \(String(mode, radix: 8)) \(content.count) bytes"
            case .symlink(let path, let target): return "symlink \(path) -> \(target)"
            case .hardLink(let path, let existing): return "hardlink \(path) => \(existing)"
            }
        }
    }

    /// False: file contents are counted, not kept.
    var keepsContent = true
    private(set) var entries: [Entry] = []
    private(set) var contractViolations: [String] = []
    private(set) var fileBytes: Int64 = 0
    private var open: (path: ArchivePath, mode: UInt16, size: Int64, content: [UInt8], received: Int64)?

    func directory(_ path: ArchivePath, mode: UInt16) throws {
        check(open == nil, "directory \(path) inside a file")
        entries.append(.directory(path.description, mode: mode))
    }

    func beginFile(_ path: ArchivePath, mode: UInt16, size: Int64) throws {
        check(open == nil, "beginFile \(path) inside a file")
        open = (path, mode, size, [], 0)
    }

    func fileData(_ bytes: UnsafeRawBufferPointer) throws {
        guard var file = open else { return check(false, "fileData outside a file") }
        file.received += Int64(bytes.count)
        check(file.received <= file.size, "\(file.path): more data than its size \(file.size)")
        if keepsContent { file.content.append(contentsOf: bytes) }
        fileBytes += Int64(bytes.count)
        open = file
    }

    func endFile() throws {
        guard let file = open else { return check(false, "endFile outside a file") }
        check(file.received == file.size, "\(file.path): \(file.received) bytes for a size of \(file.size)")
        entries.append(.file(file.path.description, mode: file.mode, content: file.content))
        open = nil
    }

    func symlink(_ path: ArchivePath, target: String) throws {
        check(open == nil, "symlink \(path) inside a file")
        entries.append(.symlink(path.description, target: target))
    }

    func hardLink(_ path: ArchivePath, to existing: ArchivePath) throws {
        check(open == nil, "hard link \(path) inside a file")
        entries.append(.hardLink(path.description, to: existing.description))
    }

    var paths: [String] {
        entries.map {
            switch $0 {
            case .directory(let path, _), .file(let path, _, _), .symlink(let path, _), .hardLink(let path, _): return path
            }
        }
    }

    func content(of path: String) -> [UInt8]? {
        for case .file(path, _, let content) in entries { return content }
        return nil
    }

    private func check(_ condition: Bool, _ violation: @autoclosure () -> String) {
        if !condition { contractViolations.append(violation()) }
    }
}

/// Feeds `archive` to a TarGzStream in seeded random chunks and finishes it.
@discardableResult
func readArchive(
    _ archive: [UInt8], policy: ArchivePolicy = ArchivePolicy(stripComponents: 1), seed: UInt64 = 1,
    into handler: RecordingHandler = RecordingHandler()
) throws -> RecordingHandler {
    let stream = try TarGzStream(policy: policy, handler: handler)
    var random = SeededRandom(seed: seed)
    try archive.withUnsafeBytes { bytes in
        for range in random.chunks(of: bytes.count) {
            try stream.consume(UnsafeRawBufferPointer(rebasing: bytes[range]))
        }
    }
    try stream.finish()
    XCTAssertEqual(handler.contractViolations, [])
    return handler
}

/// The ArchiveError reading `archive` ends with, and what was handed out before it.
func archiveError(
    _ archive: [UInt8], policy: ArchivePolicy = ArchivePolicy(stripComponents: 1), seed: UInt64 = 1,
    file: StaticString = #filePath, line: UInt = #line
) -> (error: ArchiveError?, handler: RecordingHandler) {
    let handler = RecordingHandler()
    do {
        try readArchive(archive, policy: policy, seed: seed, into: handler)
        XCTFail("the archive was accepted: \(handler.entries)", file: file, line: line)
        return (nil, handler)
    } catch let error as ArchiveError {
        XCTAssertEqual(handler.contractViolations, [], file: file, line: line)
        return (error, handler)
    } catch {
        XCTFail("not an ArchiveError: \(error)", file: file, line: line)
        return (nil, handler)
    }
}

/// The refusal reading `archive` ends with, if that is how it ends.
func refusal(
    _ archive: [UInt8], policy: ArchivePolicy = ArchivePolicy(stripComponents: 1),
    file: StaticString = #filePath, line: UInt = #line
) -> (member: String, offset: Int64, reason: ArchiveRefusal)? {
    let (error, _) = archiveError(archive, policy: policy, file: file, line: line)
    guard case .refused(let member, let offset, let reason)? = error else {
        XCTFail("expected a refusal, got \(String(describing: error))", file: file, line: line)
        return nil
    }
    return (member, offset, reason)
}
