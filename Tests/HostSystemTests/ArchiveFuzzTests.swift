// 20,000 mutated archives (fixed seed) through Gunzip, TarReader and
// MemberVetting: none may crash, every failure is an ArchiveError, and what
// does reach the handler keeps the policy's promises.
import BootstrapTestKit
import Foundation
import XCTest

@testable import HostSystem

final class ArchiveFuzzTests: XCTestCase {
    func testTwentyThousandMutatedArchivesNeverCrashTheReader() throws {
        let corpus = try Self.corpus()
        let compressedCorpus = try corpus.map(Fixture.gzip)
        var random = SeededRandom(seed: 20_000)
        var outcomes: [String: Int] = [:]

        for iteration in 0..<20_000 {
            let pick = Int.random(in: 0..<corpus.count, using: &random)
            let archive: [UInt8]
            if Int.random(in: 0..<4, using: &random) == 0 {
                archive = Self.mutated(compressedCorpus[pick], headers: false, &random)
            } else {
                archive = StoredGzip.wrap(Self.mutated(corpus[pick], headers: true, &random))
            }
            let policy = ArchivePolicy(
                stripComponents: Int.random(in: 0...1, using: &random),
                maxEntries: [8, 200_000].randomElement(using: &random)!,
                maxUnpackedBytes: [4096, 4 << 30].randomElement(using: &random)!,
                maxDecompressedBytes: [16_384, 5 << 30].randomElement(using: &random)!,
                maxExtensionBytes: [512, 64 << 10].randomElement(using: &random)!)
            let handler = RecordingHandler()
            handler.keepsContent = false
            do {
                try readArchive(archive, policy: policy, seed: UInt64(iteration), into: handler)
                outcomes["accepted", default: 0] += 1
            } catch let error as ArchiveError {
                outcomes[Self.kind(of: error), default: 0] += 1
            } catch {
                XCTFail("iteration \(iteration): not an ArchiveError: \(error)")
            }
            XCTAssertEqual(handler.contractViolations, [], "iteration \(iteration)")
            if let broken = Self.brokenPromise(in: handler.entries) { XCTFail("iteration \(iteration): \(broken)") }
        }

        print("fuzz outcomes: \(outcomes.sorted { $0.key < $1.key })")
        for kind in ["accepted", "refused", "malformed", "truncated", "corruptGzip"] {
            XCTAssertGreaterThan(outcomes[kind, default: 0], 100, "mutations reach \(kind): \(outcomes)")
        }
    }

    // MARK: corpus and mutations

    /// Uncompressed archives of every format and member type, ending right after the two zero blocks.
    private static func corpus() throws -> [[UInt8]] {
        let members: [FixtureMember] = [
            .directory("pkg/"), .file("pkg/bin/tool", "#!/bin/sh\necho hi\n", mode: 0o4755),
            FixtureMember(name: "pkg/lib/data", zeros: 1500),
            .file("pkg/" + String(repeating: "long-", count: 30) + "/name.js", "long"),
            .symlink("pkg/lib/link", to: "../bin/tool"), .symlink("pkg/lib/" + String(repeating: "l", count: 120), to: String(repeating: "t", count: 130)),
            .hardLink("pkg/lib/again", to: "pkg/lib/data"), .file("pkg/empty"),
        ]
        let hostile: [FixtureMember] = [
            .file("pkg/ok", "x"), .special("pkg/dev", type: "3"), .file("pkg/../up", "x"), .file("/abs", "x"),
            .symlink("pkg/out", to: "../../etc"), .hardLink("pkg/shadow", to: "/etc/shadow"), .special("pkg/fifo", type: "6"),
        ]
        var archives = [
            try Fixture.tarfile(members, format: .gnu, gzip: false, trim: true),
            try Fixture.tarfile(members, format: .pax, globalPax: ["comment": "fuzz"], gzip: false, trim: true),
            try Fixture.tarfile(members.filter { ($0.name?.count ?? 0) < 100 && ($0.linkname?.count ?? 0) < 100 }, format: .ustar, gzip: false, trim: true),
            try Fixture.tarfile(hostile, format: .gnu, gzip: false, trim: true),
            try Fixture.tarfile(
                [FixtureMember(name: "pkg/p", data: "hello", pax: ["size": "5", "path": "pkg/pax-path"])], format: .pax, gzip: false, trim: true),
        ]
        let scratch = try Scratch()
        try scratch.file("pkg/bin/run", Array("#!/bin/sh\n".utf8), mode: 0o755)
        try scratch.file("pkg/lib/" + String(repeating: "deep/", count: 25) + "file.js", Array(repeating: UInt8(ascii: "j"), count: 700))
        try scratch.symlink("pkg/bin/alias", to: "run")
        try Fixture.run("/usr/bin/truncate", ["-s", "64K", scratch.url.appendingPathComponent("pkg/sparse").path])
        // No --sparse in posix: its member name carries tar's process ID, and the corpus must not change.
        for (format, options) in [("gnu", ["--sparse"]), ("posix", [])] {
            let tar = try Fixture.gnuTar(scratch.url, ["pkg"], format: format, options: options)
            let end = (tar.lastIndex { $0 != 0 } ?? 0) / 512 * 512 + 512
            archives.append(Array(tar[..<(end + 1024)]))
        }
        return archives
    }

    private static let interestingBytes: [UInt8] = Array("01234567 /.\0LKxgS".utf8) + [0x80, 0xFF, 0x0A]
    private static let typeflags: [UInt8] = Array("0123456789LKxgSVMDNZ".utf8) + [0]

    /// 1 to 4 random changes; with `headers`, some aimed at header fields
    /// with the checksum repaired, so they get past the checksum check.
    private static func mutated(_ original: [UInt8], headers: Bool, _ random: inout SeededRandom) -> [UInt8] {
        var bytes = original
        for _ in 0..<Int.random(in: 1...4, using: &random) where !bytes.isEmpty {
            let at = Int.random(in: 0..<bytes.count, using: &random)
            switch Int.random(in: 0..<(headers ? 10 : 6), using: &random) {
            case 0: bytes[at] ^= 1 << UInt8.random(in: 0..<8, using: &random)
            case 1: bytes[at] = UInt8.random(in: 0...255, using: &random)
            case 2: bytes[at] = interestingBytes.randomElement(using: &random)!
            case 3: bytes.removeSubrange(at..<min(bytes.count, at + Int.random(in: 1...600, using: &random)))
            case 4: bytes.insert(contentsOf: random.bytes(Int.random(in: 1...64, using: &random)), at: at)
            case 5: bytes.removeSubrange(at...)
            case 6:  // a header's field rewritten, checksum repaired
                let header = headerOffsets(bytes).randomElement(using: &random) ?? 0
                let (start, length) = [(124, 12), (100, 8), (0, 100), (157, 100), (345, 155)].randomElement(using: &random)!
                for index in 0..<Int.random(in: 1...length, using: &random) where header + start + index < bytes.count {
                    bytes[header + start + index] = interestingBytes.randomElement(using: &random)!
                }
                repairChecksum(&bytes, header: header)
            case 7:  // a different type
                let header = headerOffsets(bytes).randomElement(using: &random) ?? 0
                if header + 156 < bytes.count { bytes[header + 156] = typeflags.randomElement(using: &random)! }
                repairChecksum(&bytes, header: header)
            case 8:  // a block repeated elsewhere
                let block = (at / 512) * 512
                let copy = Array(bytes[block..<min(bytes.count, block + 512)])
                bytes.insert(contentsOf: copy, at: min(bytes.count, Int.random(in: 0...(bytes.count / 512), using: &random) * 512))
            default:  // a pax or long-name record damaged
                let header = headerOffsets(bytes).randomElement(using: &random) ?? 0
                let data = header + 512 + Int.random(in: 0..<32, using: &random)
                if data < bytes.count { bytes[data] = interestingBytes.randomElement(using: &random)! }
            }
        }
        return bytes
    }

    /// Blocks that carry the ustar magic.
    private static func headerOffsets(_ bytes: [UInt8]) -> [Int] {
        stride(from: 0, to: bytes.count - 511, by: 512).filter { bytes[($0 + 257)..<($0 + 262)].elementsEqual("ustar".utf8) }
    }

    private static func repairChecksum(_ bytes: inout [UInt8], header: Int) {
        guard header + 512 <= bytes.count else { return }
        bytes.replaceSubrange((header + 148)..<(header + 156), with: [UInt8](repeating: 32, count: 8))
        let sum = bytes[header..<(header + 512)].reduce(0) { $0 + Int($1) }
        bytes.replaceSubrange((header + 148)..<(header + 156), with: Array(String(format: "%06o", sum).utf8) + [0, 32])
    }

    private static func kind(of error: ArchiveError) -> String {
        switch error {
        case .zlibUnavailable: return "zlibUnavailable"
        case .corruptGzip: return "corruptGzip"
        case .truncated: return "truncated"
        case .decompressedSizeLimit: return "decompressedSizeLimit"
        case .malformed: return "malformed"
        case .refused: return "refused"
        }
    }

    /// What the handler must never see, whatever the input: a path that is
    /// not plain, a mode above 0755, a symlink leaving the tree, a hard
    /// link to something that was not an earlier file.
    private static func brokenPromise(in entries: [RecordingHandler.Entry]) -> String? {
        var files: Set<String> = []
        for entry in entries {
            let path: String
            switch entry {
            case .directory(let name, let mode), .file(let name, let mode, _):
                guard mode & ~0o755 == 0 else { return "\(entry): mode above 0755" }
                path = name
            case .symlink(let name, let target):
                path = name
                let steps = bytewiseComponents(target)
                let climbs = steps.prefix { $0 == Array("..".utf8) }.count
                guard target.utf8.first != UInt8(ascii: "/"), climbs < bytewiseComponents(name).count,
                    !steps.dropFirst(climbs).contains(where: { $0 == Array("..".utf8) || $0.isEmpty })
                else { return "\(entry): target leaves the tree" }
            case .hardLink(let name, let existing):
                guard files.contains(existing) else { return "\(entry): not an earlier file" }
                path = name
            }
            guard
                bytewiseComponents(path).allSatisfy({
                    !$0.isEmpty && $0 != Array(".".utf8) && $0 != Array("..".utf8) && !$0.contains(where: { $0 < 0x20 || $0 == 0x7F })
                })
            else {
                return "\(entry): not a plain relative path"
            }
            if case .file = entry { files.insert(path) }
            if case .hardLink = entry { files.insert(path) }
        }
        return nil
    }

    /// As the kernel splits a path: at "/" bytes.
    private static func bytewiseComponents(_ path: String) -> [[UInt8]] {
        Array(path.utf8).split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false).map(Array.init)
    }
}

/// gzip with stored (uncompressed) deflate blocks, so a mutated tar still
/// arrives through a valid gzip stream; RFC 1951 3.2.4 and RFC 1952.
enum StoredGzip {
    static func wrap(_ data: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 3]
        var start = 0
        repeat {
            let count = min(65_535, data.count - start)
            let final: UInt8 = start + count == data.count ? 1 : 0
            out += [final, UInt8(count & 0xFF), UInt8(count >> 8), UInt8(~count & 0xFF), UInt8((~count >> 8) & 0xFF)]
            out += data[start..<(start + count)]
            start += count
        } while start < data.count
        out += littleEndian(crc32(data)) + littleEndian(UInt32(truncatingIfNeeded: data.count))
        return out
    }

    private static let table: [UInt32] = (0..<256).map { index in
        var value = UInt32(index)
        for _ in 0..<8 { value = value & 1 == 1 ? 0xEDB8_8320 ^ (value >> 1) : value >> 1 }
        return value
    }

    static func crc32(_ data: [UInt8]) -> UInt32 {
        table.withUnsafeBufferPointer { table in
            data.withUnsafeBufferPointer { bytes in
                var crc: UInt32 = 0xFFFF_FFFF
                for byte in bytes { crc = table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
                return ~crc
            }
        }
    }

    private static func littleEndian(_ value: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) } }
}
