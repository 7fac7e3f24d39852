import Foundation
import HostSystem
import XCTest

@testable import Bootstrap

/// code-server's tarball as an attacker would write it, through what the
/// daemon (root) unpacks it with while it downloads, into a staging folder.
final class CodeServerUnpackTests: XCTestCase {
    private var root = ""

    override func setUpWithError() throws {
        root = NSTemporaryDirectory() + "unpack-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: root + "/staging", withIntermediateDirectories: true)
        chmod(root, 0o755)
        addTeardownBlock { [root] in try? FileManager.default.removeItem(atPath: root) }
    }

    /// A .tar.gz written by Python's tarfile, which can write what GNU tar would refuse to.
    private func tarball(_ members: String) throws -> OpenFile {
        let path = root + "/release.tar.gz"
        let script = """
            import io, tarfile, sys
            t = tarfile.open(sys.argv[1], "w:gz")
            def add(name, kind=tarfile.REGTYPE, mode=0o644, data=b"", link=""):
                info = tarfile.TarInfo(name); info.type = kind; info.mode = mode; info.size = len(data); info.linkname = link
                t.addfile(info, io.BytesIO(data) if data else None)
            \(members)
            t.close()
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = ["-c", script, path]
        try process.run()
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0)
        return try Directory.system(root).openFile("release.tar.gz")
    }

    private var staging: Directory { get throws { try Directory.system(root + "/staging") } }

    /// The bytes as the download library hands them to the consumer.
    private func unpack(_ tarball: OpenFile) throws {
        let consumer = try UnpackingConsumer(into: try staging, policy: ArchivePolicy(stripComponents: 1))
        try consumer.restart()
        try tarball.readChunks(size: 4096) { try consumer.consume($0) }
        try consumer.finish()
    }

    func testTarballWithSetuidMemberIsInstalledWithoutIt() throws {
        let file = try tarball(
            """
            add("code-server-4.96.4-linux-amd64/bin/code-server", mode=0o4755, data=b"#!/bin/sh\\n")
            add("code-server-4.96.4-linux-amd64/lib/shared", mode=0o666, data=b"x")
            """)
        try unpack(file)
        var info = stat()
        XCTAssertEqual(stat(root + "/staging/bin/code-server", &info), 0)
        XCTAssertEqual(info.st_mode & 0o7777, 0o755, "setuid dropped")
        XCTAssertEqual(stat(root + "/staging/lib/shared", &info), 0)
        XCTAssertEqual(info.st_mode & 0o7777, 0o644, "world-writable dropped")
    }

    func testTarballWithADeviceNodeIsRefusedAsAWhole() throws {
        let file = try tarball(
            """
            add("code-server-4.96.4-linux-amd64/bin/code-server", mode=0o755, data=b"#!/bin/sh\\n")
            add("code-server-4.96.4-linux-amd64/disk", kind=tarfile.BLKTYPE)
            """)
        XCTAssertThrowsError(try unpack(file)) { error in
            XCTAssertTrue(error is ArchiveError, "\(error)")
            XCTAssertTrue("\(error)".contains("disk"), "the message names the member: \(error)")
        }
    }

    func testTarballWhoseLinkPointsOutOfTheTreeCannotReachIt() throws {
        let file = try tarball(
            """
            add("code-server-4.96.4-linux-amd64/etc", kind=tarfile.SYMTYPE, link="../../../etc")
            add("code-server-4.96.4-linux-amd64/etc/cron.d/x", data=b"* * * * * root id\\n")
            """)
        XCTAssertThrowsError(try unpack(file))
        XCTAssertFalse(FileManager.default.fileExists(atPath: "/etc/cron.d/x"))
    }

    func testTarballWithDotDotMembersCannotWriteOutsideStaging() throws {
        let file = try tarball(
            """
            add("code-server-4.96.4-linux-amd64/../../escaped", data=b"x")
            """)
        XCTAssertThrowsError(try unpack(file))
        XCTAssertFalse(FileManager.default.fileExists(atPath: root + "/escaped"))
    }
}
