import Foundation
import XCTest
@testable import WorkspaceSpec

/// One mistake people make, applied to the full example; each must be
/// reported at its field path and nowhere else.
struct BadSpec: Sendable {
    var name: String
    var path: String
    var change: @Sendable (inout JSONValue) -> Void

    static func set(_ name: String, _ keys: [String], _ value: JSONValue?, reportedAt path: String? = nil) -> BadSpec {
        BadSpec(name: name, path: path ?? keys.joined(separator: ".")) { $0[path: keys] = value }
    }
}

let badSpecs: [BadSpec] = [
    .set("wrong api version", ["apiVersion"], .string("v1")),
    .set("missing api version", ["apiVersion"], nil),
    .set("unknown top-level key", ["codeserver"], .object([:])),
    .set("misspelt nested key", ["ssh", "passwordAuth"], .bool(true)),
    .set("missing workspace", ["workspace"], nil),
    .set("owner not a DNS label", ["workspace", "owner"], .string("Alice_Smith")),
    .set("workspace id with slashes", ["workspace", "id"], .string("../etc")),
    .set("hostname with underscore", ["hostname"], .string("my_host")),
    .set("upper-case user name", ["user", "name"], .string("Coder")),
    .set("user name too long", ["user", "name"], .string(String(repeating: "a", count: 33))),
    .set("root as the user", ["user", "name"], .string("root")),
    .set("relative shell", ["user", "shell"], .string("bash")),
    .set("group that is no name", ["user", "groups"], .array([.string("Docker Users")]), reportedAt: "user.groups[0]"),
    .set("sudo as a string", ["user", "sudo"], .string("yes")),
    .set("SSH key that is not a key", ["user", "sshAuthorizedKeys"], .array([.string("hello world")]), reportedAt: "user.sshAuthorizedKeys[0]"),
    .set("SSH key with broken base64", ["user", "sshAuthorizedKeys"], .array([.string("ssh-ed25519 AAAA!!!! x")]), reportedAt: "user.sshAuthorizedKeys[0]"),
    .set("SSH key whose type lies", ["user", "sshAuthorizedKeys"],
         .array([.string("ssh-rsa AAAAC3NzaC1lZDI1NTE5AAAAIGtJ/5v/uTFwU/XxE3XpVYH1+q1ZHCgX0w8Q8NCXyxjx a@b")]), reportedAt: "user.sshAuthorizedKeys[0]"),
    .set("two SSH keys in one item", ["user", "sshAuthorizedKeys"],
         .array([.string("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGtJ/5v/uTFwU/XxE3XpVYH1+q1ZHCgX0w8Q8NCXyxjx a\nssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGtJ/5v/uTFwU/XxE3XpVYH1+q1ZHCgX0w8Q8NCXyxjx b")]),
         reportedAt: "user.sshAuthorizedKeys[0]"),
    .set("access URL without scheme", ["coder", "accessURL"], .string("coder.example.com")),
    .set("access URL with ftp scheme", ["coder", "accessURL"], .string("ftp://coder.example.com/")),
    .set("agent URL without host", ["coder", "agentURL"], .string("https://")),
    .set("no token with token auth", ["coder", "token"], nil),
    .set("token with white space", ["coder", "token"], .string("abc def")),
    .set("token and token file", ["coder", "tokenFile"], .string("/etc/coder/token")),
    .set("unknown auth kind", ["coder", "auth"], .string("password")),
    .set("unknown arch", ["coder", "arch"], .string("x86_64")),
    .set("CA that is not PEM", ["coder", "caCertificates"], .array([.string("not a certificate")]), reportedAt: "coder.caCertificates[0]"),
    .set("proxy without scheme", ["coder", "proxy", "https"], .string("proxy.internal:3128")),
    .set("header value with newline", ["coder", "agentHeaders"], .object(["X-A": .string("a\r\nX-B: b")]), reportedAt: "coder.agentHeaders.X-A"),
    .set("header name with space", ["coder", "agentHeaders"], .object(["X A": .string("a")]), reportedAt: "coder.agentHeaders.X A"),
    .set("version with v prefix", ["codeServer", "version"], .string("v4.96.4")),
    .set("version as number", ["codeServer", "version"], .double(4.96)),
    .set("unknown URL placeholder", ["codeServer", "downloadURL"], .string("https://x/{os}/{version}")),
    .set("short SHA-256", ["codeServer", "sha256"], .object(["amd64": .string("abc")]), reportedAt: "codeServer.sha256.amd64"),
    .set("SHA-256 for unknown arch", ["codeServer", "sha256"], .object(["x86_64": .string(String(repeating: "a", count: 64))]), reportedAt: "codeServer.sha256.x86_64"),
    .set("relative installed path", ["codeServer", "installedPath"], .string("opt/code-server")),
    .set("code-server on all interfaces without auth", ["codeServer", "bindAddress"], .string("0.0.0.0:13337")),
    .set("bind address without port", ["codeServer", "bindAddress"], .string("127.0.0.1")),
    .set("password auth without hash", ["codeServer", "auth"], .string("password"), reportedAt: "codeServer.hashedPassword"),
    .set("plain password as hash", ["codeServer", "hashedPassword"], .string("hunter2")),
    .set("extension without publisher", ["codeServer", "extensions"], .array([.string("python")]), reportedAt: "codeServer.extensions[0]"),
    .set("settings as a list", ["codeServer", "settings"], .array([])),
    .set("SSH port out of range", ["ssh", "port"], .int(0)),
    .set("SSH port as string", ["ssh", "port"], .string("22")),
    .set("readiness port clashing with SSH", ["readiness", "port"], .int(22)),
    .set("unknown required component", ["readiness", "required"], .array([.string("vnc")]), reportedAt: "readiness.required[0]"),
    .set("required component that is disabled", ["docker", "enabled"], .bool(false), reportedAt: "readiness.required[1]"),
    .set("install without package URL", ["install", "packageURL"], nil),
    .set("install with bad digest", ["install", "sha256"], .string("xyz")),
]

final class BadSpecTableTests: XCTestCase {
    func testEveryBadSpecIsReportedAtItsFieldPathWithAHint() throws {
        let good = try exampleJSON("full.json")
        XCTAssertNoThrow(try SpecDecoder.decode(good))
        for bad in badSpecs {
            var tree = good
            bad.change(&tree)
            do {
                _ = try SpecDecoder.decode(tree)
                XCTFail("\(bad.name): accepted")
            } catch {
                XCTAssertEqual(error.diagnostics.map(\.path), [bad.path], "\(bad.name): \(error)")
                XCTAssertTrue(error.diagnostics.allSatisfy { $0.hint != nil || $0.message.contains("required") },
                              "\(bad.name): no hint in \(error)")
            }
        }
    }

    /// The same table through the daemon's command line: exit 78 and the field path on stderr.
    func testEveryBadSpecMakesCheckConfigExit78NamingTheField() throws {
        let good = try exampleJSON("full.json")
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("bad-specs-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        for (index, bad) in badSpecs.enumerated() {
            var tree = good
            bad.change(&tree)
            let file = folder.appendingPathComponent("\(index).json")
            try JSONEncoder().encode(tree).write(to: file)
            try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: file.path)
            let process = Process()
            process.executableURL = daemonBinary()
            process.arguments = ["check-config", file.path]
            let errors = Pipe()
            process.standardError = errors
            process.standardOutput = FileHandle.nullDevice
            try process.run()
            let output = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            XCTAssertEqual(process.terminationStatus, 78, "\(bad.name): \(output)")
            XCTAssertTrue(output.contains("\(bad.path):"), "\(bad.name): \(output)")
        }
    }

    func testMisspeltKeyGetsADidYouMeanHint() throws {
        var tree = try exampleJSON("full.json")
        tree[path: ["ssh", "passwordAuth"]] = .bool(true)
        XCTAssertThrowsError(try SpecDecoder.decode(tree)) { error in
            XCTAssertEqual((error as! InvalidSpec).diagnostics.first?.hint, "did you mean passwordAuthentication?")
        }
    }
}

/// The built daemon, beside the test bundle in the build folder.
/// A folder of that name (a clone called coder-vm-bootstrap) does not count.
func daemonBinary() -> URL {
    for start in [Bundle.main.bundleURL, URL(fileURLWithPath: CommandLine.arguments[0])] {
        var directory = start
        for _ in 0..<4 {
            directory = directory.deletingLastPathComponent()
            let binary = directory.appendingPathComponent("coder-vm-bootstrap")
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: binary.path, isDirectory: &isDirectory), !isDirectory.boolValue,
               FileManager.default.isExecutableFile(atPath: binary.path) { return binary }
        }
    }
    return URL(fileURLWithPath: ".build/debug/coder-vm-bootstrap")
}
