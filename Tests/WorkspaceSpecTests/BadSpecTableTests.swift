import BootstrapTestKit
import Foundation
import XCTest

@testable import WorkspaceSpec

/// One mistake people make (or an attack someone who writes the spec could
/// try), applied to the full example; each must be reported at its field
/// path and nowhere else.
struct BadSpec: Sendable {
    var name: String
    var path: String
    var change: @Sendable (inout JSONValue) -> Void
    /// Applied to the JSON text after `change`, for what a tree cannot hold (a key given twice).
    var text: @Sendable (String) -> String = { $0 }

    static func set(_ name: String, _ keys: [String], _ value: JSONValue?, reportedAt path: String? = nil) -> BadSpec {
        BadSpec(name: name, path: path ?? keys.joined(separator: ".")) { $0[path: keys] = value }
    }

    /// Several values changed at once, for rules that relate fields.
    static func edit(_ name: String, reportedAt path: String, _ change: @escaping @Sendable (inout JSONValue) -> Void) -> BadSpec {
        BadSpec(name: name, path: path, change: change)
    }

    static func text(_ name: String, reportedAt path: String, _ text: @escaping @Sendable (String) -> String) -> BadSpec {
        BadSpec(name: name, path: path, change: { _ in }, text: text)
    }

    /// The full example with this mistake, as the JSON file the daemon would read.
    func json(from good: JSONValue) throws -> Data {
        var tree = good
        change(&tree)
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return Data(text(String(decoding: try encoder.encode(tree), as: UTF8.self)).utf8)
    }
}

private let sshKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGtJ/5v/uTFwU/XxE3XpVYH1+q1ZHCgX0w8Q8NCXyxjx alice@laptop"

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
    .set(
        "SSH key whose type lies", ["user", "sshAuthorizedKeys"],
        .array([.string("ssh-rsa AAAAC3NzaC1lZDI1NTE5AAAAIGtJ/5v/uTFwU/XxE3XpVYH1+q1ZHCgX0w8Q8NCXyxjx a@b")]), reportedAt: "user.sshAuthorizedKeys[0]"),
    .set(
        "two SSH keys in one item", ["user", "sshAuthorizedKeys"],
        .array([
            .string(
                "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGtJ/5v/uTFwU/XxE3XpVYH1+q1ZHCgX0w8Q8NCXyxjx a\nssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGtJ/5v/uTFwU/XxE3XpVYH1+q1ZHCgX0w8Q8NCXyxjx b"
            )
        ]),
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
    .set(
        "SHA-256 for unknown arch", ["codeServer", "sha256"], .object(["x86_64": .string(String(repeating: "a", count: 64))]),
        reportedAt: "codeServer.sha256.x86_64"),
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

    // Control characters, in every kind of string that reaches a unit, an environment file or a config.
    .set("API version with a line break", ["apiVersion"], .string("coder-vm-bootstrap/v1\n")),
    .set("workspace id with an escape", ["workspace", "id"], .string("0b6f6c1e\u{1B}[2J")),
    .set("host name with a carriage return", ["hostname"], .string("coder-alice-dev\r")),
    .set("shell with DEL", ["user", "shell"], .string("/bin/bash\u{7F}")),
    .set("group with an escape", ["user", "groups"], .array([.string("adm\u{1B}")]), reportedAt: "user.groups[0]"),
    .set("SSH key ending in a carriage return", ["user", "sshAuthorizedKeys"], .array([.string(sshKey + "\r")]), reportedAt: "user.sshAuthorizedKeys[0]"),
    .set("SSH key with a NUL", ["user", "sshAuthorizedKeys"], .array([.string(sshKey + "\u{0}x")]), reportedAt: "user.sshAuthorizedKeys[0]"),
    .set("SSH key with an escape", ["user", "sshAuthorizedKeys"], .array([.string(sshKey + "\u{1B}[8m")]), reportedAt: "user.sshAuthorizedKeys[0]"),
    .set("access URL with a paragraph separator", ["coder", "accessURL"], .string("https://coder.example.com/\u{2029}")),
    .set("agent URL with a next-line character", ["coder", "agentURL"], .string("http://coder.coder.svc.cluster.local/\u{85}")),
    .set("token with a carriage return", ["coder", "token"], .string("6f1d2c3b-4a59-4b43-9a3e-0b6f6c1e93f4\r")),
    .edit("token file with a tab", reportedAt: "coder.tokenFile") {
        $0[path: ["coder", "token"]] = nil
        $0[path: ["coder", "tokenFile"]] = .string("/run/token\t")
    },
    .set(
        "CA with an escape among its lines", ["coder", "caCertificates"],
        .array([.string("-----BEGIN CERTIFICATE-----\nMIIB\u{1B}\n-----END CERTIFICATE-----\n")]), reportedAt: "coder.caCertificates[0]"),
    .set("proxy URL with a NUL", ["coder", "proxy", "http"], .string("http://proxy.internal:3128\u{0}")),
    .set("no-proxy entry with a line separator", ["coder", "proxy", "noProxy"], .array([.string("localhost\u{2028}")]), reportedAt: "coder.proxy.noProxy[0]"),
    .set("header value with a next-line character", ["coder", "agentHeaders"], .object(["X-A": .string("a\u{85}b")]), reportedAt: "coder.agentHeaders.X-A"),
    .set("header name with an escape", ["coder", "agentHeaders"], .object(["X-\u{1B}A": .string("a")]), reportedAt: "coder.agentHeaders.X-\\u{1B}A"),
    .set("version with a NUL", ["codeServer", "version"], .string("4.96.4\u{0}")),
    .set("download URL with a line break", ["codeServer", "downloadURL"], .string("https://example.com/{version}/{arch}.tar.gz\n")),
    .set("digest with an escape", ["codeServer", "sha256"], .object(["amd64": .string("\u{1B}")]), reportedAt: "codeServer.sha256.amd64"),
    .set("installed path with a carriage return", ["codeServer", "installedPath"], .string("/usr/lib/code-server\r")),
    .set("bind address with an escape", ["codeServer", "bindAddress"], .string("127.0.0.1:13337\u{1B}")),
    .set("hashed password with a line break", ["codeServer", "hashedPassword"], .string("$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA\nAUTH=none")),
    .set("extension id with an escape", ["codeServer", "extensions"], .array([.string("ms-python.python\u{1B}")]), reportedAt: "codeServer.extensions[0]"),
    .set("required component with a line break", ["readiness", "required"], .array([.string("ssh\n")]), reportedAt: "readiness.required[0]"),
    .set("package URL with a line break", ["install", "packageURL"], .string("https://downloads.example.com/x.deb\n")),

    // Where code-server binds.
    .set("code-server bound to a name that starts with 127", ["codeServer", "bindAddress"], .string("127.evil.example:13337")),
    .set("code-server bound to 127.0.0.1.nip.io", ["codeServer", "bindAddress"], .string("127.0.0.1.nip.io:13337")),
    .set("code-server bound to shorthand 127.1", ["codeServer", "bindAddress"], .string("127.1:13337")),
    .set("code-server bound to an unbracketed IPv6 address", ["codeServer", "bindAddress"], .string("::1:13337")),
    .set("code-server on an IPv4-mapped address without auth", ["codeServer", "bindAddress"], .string("[::ffff:127.0.0.1]:13337")),
    .set("bind port with a plus sign", ["codeServer", "bindAddress"], .string("127.0.0.1:+13337")),
    .edit("code-server bound to a host name even with a password", reportedAt: "codeServer.bindAddress") {
        $0[path: ["codeServer", "auth"]] = .string("password")
        $0[path: ["codeServer", "hashedPassword"]] = .string(String(repeating: "b", count: 64))
        $0[path: ["codeServer", "bindAddress"]] = .string("workspace.example.com:13337")
    },

    // The agent's debug server.
    .set("code-server on the agent's debug port", ["codeServer", "bindAddress"], .string("127.0.0.1:2113")),
    .set("SSH on the agent's debug port", ["ssh", "port"], .int(2113)),
    .set("readiness on the agent's debug port", ["readiness", "port"], .int(2113)),

    // Downloads over plain http://.
    .edit("plain http code-server download without a pin", reportedAt: "codeServer.downloadURL") {
        $0[path: ["codeServer", "downloadURL"]] = .string("http://mirror.internal/code-server-{version}-linux-{arch}.tar.gz")
        $0[path: ["codeServer", "sha256"]] = nil
    },
    .edit("plain http package without a digest", reportedAt: "install.packageURL") {
        $0[path: ["install", "packageURL"]] = .string("http://downloads.example.com/coder-vm-bootstrap_0.1.0_amd64.deb")
        $0[path: ["install", "sha256"]] = nil
    },

    // downloads.
    .set("download limit below 1 MiB", ["downloads"], .object(["maxBytes": .int(1000)]), reportedAt: "downloads.maxBytes"),
    .set("download limit above 64 GiB", ["downloads"], .object(["maxBytes": .int(65 << 30)]), reportedAt: "downloads.maxBytes"),
    .set("attempt timeout of 5 s", ["downloads"], .object(["attemptTimeout": .int(5)]), reportedAt: "downloads.attemptTimeout"),
    .set("attempt timeout over a day", ["downloads"], .object(["attemptTimeout": .int(86401)]), reportedAt: "downloads.attemptTimeout"),
    .set("attempt timeout as a string", ["downloads"], .object(["attemptTimeout": .string("30m")]), reportedAt: "downloads.attemptTimeout"),
    .set("misspelt downloads key", ["downloads"], .object(["maxSize": .int(1 << 30)]), reportedAt: "downloads.maxSize"),
    .set("downloads as a list", ["downloads"], .array([])),

    // What else someone who writes the spec could try.
    .set("the root group", ["user", "groups"], .array([.string("root")]), reportedAt: "user.groups[0]"),
    .edit("wheel without sudo", reportedAt: "user.groups[0]") {
        $0[path: ["user", "sudo"]] = .bool(false)
        $0[path: ["user", "groups"]] = .array([.string("wheel")])
    },
    .edit("disk group without sudo", reportedAt: "user.groups[1]") {
        $0[path: ["user", "sudo"]] = .bool(false)
        $0[path: ["user", "groups"]] = .array([.string("adm"), .string("disk")])
    },
    .edit("docker group while docker.addUserToGroup is false", reportedAt: "user.groups[0]") {
        $0[path: ["docker", "addUserToGroup"]] = .bool(false)
        $0[path: ["user", "groups"]] = .array([.string("docker")])
    },
    .set("shell with a colon", ["user", "shell"], .string("/bin/bash:/root")),
    .set("host name of 65 characters", ["hostname"], .string(String(repeating: "a", count: 32) + "." + String(repeating: "b", count: 32))),
    .set("Host header", ["coder", "agentHeaders"], .object(["Host": .string("evil.example")]), reportedAt: "coder.agentHeaders.Host"),
    .set("Content-Length header", ["coder", "agentHeaders"], .object(["content-length": .string("0")]), reportedAt: "coder.agentHeaders.content-length"),
    .set(
        "Transfer-Encoding header", ["coder", "agentHeaders"], .object(["Transfer-Encoding": .string("chunked")]),
        reportedAt: "coder.agentHeaders.Transfer-Encoding"),
    .set(
        "the agent's own token header", ["coder", "agentHeaders"], .object(["Coder-Session-Token": .string("x")]),
        reportedAt: "coder.agentHeaders.Coder-Session-Token"),
    .set("header value with a comma", ["coder", "agentHeaders"], .object(["X-A": .string("a,X-B=b")]), reportedAt: "coder.agentHeaders.X-A"),
    .set("header value with a backslash", ["coder", "agentHeaders"], .object(["X-A": .string("a\\")]), reportedAt: "coder.agentHeaders.X-A"),
    .set("access URL with a double quote", ["coder", "accessURL"], .string("https://coder.example.com/\"x")),
    .set("proxy URL with a backslash", ["coder", "proxy", "https"], .string("http://proxy.internal:3128\\")),
    .set("access URL with raw non-ASCII", ["coder", "accessURL"], .string("https://cöder.example.com/")),
    .set("no-proxy entry with a quote", ["coder", "proxy", "noProxy"], .array([.string("a\"b")]), reportedAt: "coder.proxy.noProxy[0]"),
    .set("extension version with ..", ["codeServer", "extensions"], .array([.string("ms-python.python@../../x")]), reportedAt: "codeServer.extensions[0]"),
    .set("extension id that looks like an option", ["codeServer", "extensions"], .array([.string("-rf.python")]), reportedAt: "codeServer.extensions[0]"),
    .set("version with 10,000 digits", ["codeServer", "version"], .string("4.96." + String(repeating: "9", count: 10_000))),
    .set("hashed password with a space", ["codeServer", "hashedPassword"], .string("$argon2id$v=19$m=65536 AUTH=none")),
    .set("257 extensions", ["codeServer", "extensions"], .array(Array(repeating: .string("golang.go"), count: 257))),
    .set(
        "257 agent headers", ["coder", "agentHeaders"],
        .object(Dictionary(uniqueKeysWithValues: (0..<257).map { ("X-\($0)", JSONValue.string("v")) })), reportedAt: "coder.agentHeaders"),
    .set(
        "257 top-level settings", ["codeServer", "settings"],
        .object(Dictionary(uniqueKeysWithValues: (0..<257).map { ("s\($0)", JSONValue.bool(true)) })), reportedAt: "codeServer.settings"),
    .set("token of 70,000 characters", ["coder", "token"], .string(String(repeating: "t", count: 70_000))),
    .text("SSH port given twice", reportedAt: "ssh.port") { $0.replacing("\"port\":22}", with: "\"port\":22,\"port\":2222}") },
]

final class BadSpecTableTests: XCTestCase {
    func testEveryBadSpecIsReportedAtItsFieldPathWithAHint() throws {
        let good = try exampleJSON("full.json")
        XCTAssertNoThrow(try SpecDecoder.decode(good))
        for bad in badSpecs {
            let json = try bad.json(from: good)
            do {
                _ = try SpecDecoder.decode(json: json)
                XCTFail("\(bad.name): accepted")
            } catch {
                XCTAssertEqual(error.diagnostics.map(\.path), [bad.path], "\(bad.name): \(error)")
                XCTAssertTrue(
                    error.diagnostics.allSatisfy { $0.hint != nil || $0.message.contains("required") },
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
            let file = folder.appendingPathComponent("\(index).json")
            try bad.json(from: good).write(to: file)
            try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: file.path)
            let (_, status, output) = try runCheckConfig(file)
            XCTAssertEqual(status, 78, "\(bad.name): \(output)")
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
