import Foundation
import HostSystem
import XCTest

/// Writes below folders someone else controls, as root, against the tricks
/// that someone can play: links planted where the daemon will write,
/// folders swapped for links, names taken in advance, FIFOs.
final class DirectoryTests: XCTestCase {
    private var root = ""
    /// A user that is not root, to own the "home" an attacker controls.
    private let attacker = Ownership(uid: 4242, gid: 4242)

    override func setUpWithError() throws {
        guard getuid() == 0 else { throw XCTSkip("these scenarios chown files to another user, which needs root (CI runs as root)") }
        root = NSTemporaryDirectory() + "directory-tests-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        chmod(root, 0o755)
        addTeardownBlock { [root] in try? FileManager.default.removeItem(atPath: root) }
    }

    /// `root/home` (root's) with `root/home/alice` owned by the attacker, as /home/alice is.
    private func home() throws -> (parent: Directory, path: String) {
        let homes = try Directory.system(root + "/home", creating: .init())
        _ = try homes.child("alice", creating: .init(mode: 0o755, owner: attacker))
        return (homes, root + "/home/alice")
    }

    private func link(_ target: String, at path: String) throws {
        try FileManager.default.createSymbolicLink(atPath: path, withDestinationPath: target)
        lchown(path, attacker.uid, attacker.gid)
    }

    func test_user_symlink_in_home_cannot_redirect_root_writes() throws {
        let (homes, home) = try home()
        let victim = root + "/etc-victim"
        try FileManager.default.createDirectory(atPath: victim, withIntermediateDirectories: true)
        // The user points ~/.local at a folder of root's and waits for root to write there.
        try link(victim, at: home + "/.local")
        XCTAssertThrowsError(
            try homes.child("alice").descend(
                ".local/share/code-server/User",
                creating: .init(mode: 0o755, owner: attacker))
        ) { error in
            XCTAssertTrue("\(error)".contains("symbolic link"), "\(error)")
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: victim), [], "nothing was created through the link")
    }

    func testLinkPlantedAtTheFileNameIsReplacedNotWrittenThrough() throws {
        let (homes, home) = try home()
        let target = root + "/shadow"
        try "root:secret\n".write(toFile: target, atomically: false, encoding: .utf8)
        try link(target, at: home + "/settings.json")
        try homes.child("alice").writeFile("settings.json", text: "{}\n", mode: 0o644, owner: attacker)
        XCTAssertEqual(try String(contentsOfFile: target, encoding: .utf8), "root:secret\n", "the link's target is untouched")
        XCTAssertEqual(try String(contentsOfFile: home + "/settings.json", encoding: .utf8), "{}\n")
        XCTAssertEqual(try FileManager.default.destinationOfSymbolicLinkOrNil(home + "/settings.json"), nil, "a plain file now")
    }

    func testHardLinkPlantedAtTheFileNameKeepsItsOtherNameUntouched() throws {
        let (homes, home) = try home()
        let target = root + "/shadow"
        try "root:secret\n".write(toFile: target, atomically: false, encoding: .utf8)
        XCTAssertEqual(hardLink(target, home + "/token"), 0)
        try homes.child("alice").writeFile("token", text: "new\n", mode: 0o600, owner: attacker)
        XCTAssertEqual(try String(contentsOfFile: target, encoding: .utf8), "root:secret\n")
        var info = stat()
        XCTAssertEqual(stat(target, &info), 0)
        XCTAssertEqual(info.st_uid, 0, "the other name's file was not handed to the user")
    }

    func testANewFileHasItsModeAndOwnerBeforeItHasItsContent() throws {
        let folder = try Directory.system(root + "/run", creating: .init())
        try folder.writeFile("token", text: "secret\n", mode: 0o600, owner: attacker)
        var info = stat()
        XCTAssertEqual(stat(root + "/run/token", &info), 0)
        XCTAssertEqual(info.st_mode & 0o777, 0o600)
        XCTAssertEqual(info.st_uid, attacker.uid)
        XCTAssertEqual(try folder.entries(), ["token"], "no temporary file is left")
        XCTAssertFalse(try folder.writeFile("token", text: "secret\n", mode: 0o600, owner: attacker), "unchanged: not rewritten")
    }

    func testAFolderOthersMayWriteToIsNotTrustedAsASystemFolder() throws {
        let open = root + "/open"
        try FileManager.default.createDirectory(atPath: open, withIntermediateDirectories: true)
        chmod(open, 0o777)
        XCTAssertThrowsError(try Directory.system(open + "/sub", creating: .init())) { error in
            XCTAssertTrue("\(error)".contains("writable by users other than root"), "\(error)")
        }
    }

    func testBelowAStickyFolderALinkSomeonePlantedIsNotFollowed() throws {
        let sticky = root + "/tmp"
        try FileManager.default.createDirectory(atPath: sticky, withIntermediateDirectories: true)
        chmod(sticky, 0o1777)
        try FileManager.default.createDirectory(atPath: root + "/elsewhere", withIntermediateDirectories: true)
        try link(root + "/elsewhere", at: sticky + "/cache")
        XCTAssertThrowsError(try Directory.system(sticky + "/cache"))
    }

    func testAFIFOPlantedWhereAFileIsReadDoesNotBlock() throws {
        let (homes, home) = try home()
        XCTAssertEqual(mkfifo(home + "/settings.json", 0o644), 0)
        XCTAssertThrowsError(try homes.child("alice").readFile("settings.json")) { error in
            XCTAssertTrue("\(error)".contains("not a regular file"), "\(error)")
        }
    }

    func testRemovingATreeRemovesALinkInsideItNotWhatItPointsTo() throws {
        let folder = try Directory.system(root + "/opt", creating: .init())
        let staging = try folder.child(".staging", creating: .init())
        try FileManager.default.createDirectory(atPath: root + "/keep", withIntermediateDirectories: true)
        try "keep\n".write(toFile: root + "/keep/file", atomically: false, encoding: .utf8)
        try staging.makeLink("escape", to: root + "/keep")
        try staging.writeFile("a", text: "a")
        XCTAssertTrue(try folder.removeTree(".staging"))
        XCTAssertEqual(try String(contentsOfFile: root + "/keep/file", encoding: .utf8), "keep\n")
        XCTAssertNil(try folder.status(".staging"))
    }

    func testPointingALinkIsAtomicAndIdempotent() throws {
        let folder = try Directory.system(root + "/opt/code-server", creating: .init())
        XCTAssertTrue(try folder.pointLink("current", at: "/opt/code-server/4.96.4-amd64"))
        XCTAssertFalse(try folder.pointLink("current", at: "/opt/code-server/4.96.4-amd64"))
        XCTAssertEqual(try folder.linkTarget("current"), "/opt/code-server/4.96.4-amd64")
        XCTAssertEqual(try folder.entries(), ["current"])
    }

    func testANameThatIsAPathIsRefused() throws {
        let folder = try Directory.system(root + "/run", creating: .init())
        XCTAssertThrowsError(try folder.writeFile("../escape", text: "x"))
        XCTAssertThrowsError(try folder.writeFile("..", text: "x"))
    }
}

private func hardLink(_ target: String, _ path: String) -> Int32 { Foundation.link(target, path) }

extension FileManager {
    func destinationOfSymbolicLinkOrNil(_ path: String) throws -> String? {
        try? destinationOfSymbolicLink(atPath: path)
    }
}
