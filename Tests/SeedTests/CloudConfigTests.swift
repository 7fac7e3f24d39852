import Foundation
import WorkspaceSpec
import XCTest
import Yams

@testable import Seed

final class CloudConfigTests: XCTestCase {
    func testUserDataHasTheDecidedShape() throws {
        let spec = try SpecFixtures.spec(try SpecFixtures.example("minimal.yaml"))
        let userData = try CloudConfig.render(try SpecFixtures.context(spec))
        XCTAssertTrue(userData.hasPrefix("#cloud-config\n"))
        let root = try XCTUnwrap(try Yams.load(yaml: userData) as? [String: Any])
        XCTAssertEqual(Set(root.keys), ["hostname", "preserve_hostname", "users", "bootcmd", "runcmd"])
        XCTAssertEqual(root["hostname"] as? String, "coder-alice-dev")
        XCTAssertEqual(root["preserve_hostname"] as? Bool, false)
        // No user for cloud-init to create, not even the distribution's default one.
        XCTAssertEqual((root["users"] as? [Any])?.count, 0)
        XCTAssertTrue(userData.contains("\nusers: []\n"), userData)
        // No install section: nothing downloaded, the daemon is enabled and started without blocking.
        XCTAssertEqual(
            root["runcmd"] as? [[String]],
            [
                ["systemctl", "enable", "coder-vm-bootstrap.service"],
                ["systemctl", "start", "--no-block", "coder-vm-bootstrap.service"],
            ])
    }

    /// Keys and sudo reach the VM only inside the spec, which the daemon
    /// converges on every boot: dropping them from a later build's spec
    /// changes the spec's line and nothing else in the user-data.
    func testKeysSudoAndGroupsTravelOnlyInsideTheSpec() throws {
        var granted = try SpecFixtures.spec(try SpecFixtures.example("full.yaml"))
        granted.user.groups = ["adm", "wheel"]
        granted.user.sshAuthorizedKeys.append(SpecFixtures.rsaKey)
        var revoked = granted
        revoked.user.sudo = false
        revoked.user.groups = []
        revoked.user.sshAuthorizedKeys = []
        let before = try CloudConfig.render(try SpecFixtures.context(granted))
        let after = try CloudConfig.render(try SpecFixtures.context(revoked))
        XCTAssertNotEqual(before, after)
        let specLine = { (userData: String) in try embeddedSpecJSON(inUserData: userData) }
        XCTAssertEqual(
            before.replacingOccurrences(of: try specLine(before), with: "SPEC"),
            after.replacingOccurrences(of: try specLine(after), with: "SPEC"))
        let outsideTheSpec = before.replacingOccurrences(of: try specLine(before), with: "")
        for text in ["ssh-ed25519", "ssh-rsa", "sudo", "NOPASSWD", "ssh_authorized_keys", "groups", "wheel", "lock_passwd"] {
            XCTAssertFalse(outsideTheSpec.contains(text), "\(text) outside the spec:\n\(outsideTheSpec)")
        }
    }

    /// cloud-init's own code, merging the user-data over Debian's
    /// cloud.cfg (`users: [default]`), creates no user: so it writes no
    /// authorized_keys and no /etc/sudoers.d/90-cloud-init-users. Without
    /// `users: []` it would create the default user with passwordless sudo.
    func testCloudInitCreatesNoUserNotEvenTheDefaultOne() throws {
        _ = try Validators.cloudInit()
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let ours = directory.appendingPathComponent("ours.yaml")
        try CloudConfig.render(try SpecFixtures.context(try SpecFixtures.spec(try SpecFixtures.example("full.yaml"))))
            .write(to: ours, atomically: true, encoding: .utf8)
        let withoutUsers = directory.appendingPathComponent("without-users.yaml")
        try "#cloud-config\nhostname: x\nbootcmd: [\"true\"]\n".write(to: withoutUsers, atomically: true, encoding: .utf8)
        let result = try Validators.python("cloudinit_userdata.py", [ours.path, withoutUsers.path], interpreter: "/usr/bin/python3")
        XCTAssertEqual(result.status, 0, result.stderr)
        let report = try XCTUnwrap(try JSONSerialization.jsonObject(with: result.stdout) as? [String: [String: Any]])
        XCTAssertEqual((report[ours.path]?["createdUsers"] as? [String: Any])?.count, 0, "\(report)")
        let defaultUser = try XCTUnwrap(
            (report[withoutUsers.path]?["createdUsers"] as? [String: [String: Any]])?["debian"],
            "the control: Debian's default user is created when users is absent")
        XCTAssertEqual(defaultUser["sudo"] as? [String], ["ALL=(ALL) NOPASSWD:ALL"])
    }

    func testBootcmdWritesTheSpecWithOneHereDocument() throws {
        let spec = try SpecFixtures.spec(try SpecFixtures.example("full.yaml"))
        let userData = try CloudConfig.render(try SpecFixtures.context(spec))
        let root = try XCTUnwrap(try Yams.load(yaml: userData) as? [String: Any])
        let bootcmd = try XCTUnwrap(root["bootcmd"] as? [String])
        XCTAssertEqual(bootcmd.count, 1)
        let lines = bootcmd[0].split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        XCTAssertEqual(lines.count, 5)  // four lines and the final newline
        XCTAssertEqual(lines[0], "umask 077 && mkdir -p /run/coder-vm-bootstrap && cat > /run/coder-vm-bootstrap/spec.json.tmp <<'CODER_VM_SPEC'")
        XCTAssertEqual(lines[2], "CODER_VM_SPEC")
        XCTAssertEqual(lines[3], "mv -f /run/coder-vm-bootstrap/spec.json.tmp /run/coder-vm-bootstrap/spec.json")
        XCTAssertEqual(lines[4], "")
        // The JSON line is what JSONEncoder writes with sorted keys.
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        XCTAssertEqual(lines[1], String(decoding: try encoder.encode(spec), as: UTF8.self))
        XCTAssertEqual(SpecDelivery.path, SpecFile.searchPaths.first)
    }

    func testTheTokenAppearsOnlyInTheHereDocument() throws {
        let spec = try SpecFixtures.spec(try SpecFixtures.example("full.yaml"))
        let userData = try CloudConfig.render(try SpecFixtures.context(spec))
        let token = try XCTUnwrap(spec.coder?.token)
        XCTAssertEqual(userData.components(separatedBy: token).count - 1, 1)
        let jsonLine = try embeddedSpecJSON(inUserData: userData)
        XCTAssertTrue(jsonLine.contains(token))
    }

    func testInstallRunsAFixedScriptWithURLAndDigestAsArguments() throws {
        let spec = try SpecFixtures.spec(try SpecFixtures.example("full.yaml"))
        let root = try XCTUnwrap(try Yams.load(yaml: try CloudConfig.render(try SpecFixtures.context(spec))) as? [String: Any])
        let runcmd = try XCTUnwrap(root["runcmd"] as? [[String]])
        XCTAssertEqual(runcmd.count, 3)
        let install = runcmd[0]
        // The proxy of the spec applies to the download.
        XCTAssertEqual(
            Array(install.prefix(4)),
            [
                "env", "http_proxy=http://proxy.internal:3128",
                "https_proxy=http://proxy.internal:3128",
                "no_proxy=localhost,127.0.0.1,.svc.cluster.local",
            ])
        XCTAssertEqual(Array(install[4...5]), ["sh", "-c"])
        XCTAssertEqual(install[6], DaemonInstall.script)
        XCTAssertEqual(Array(install[7...]), ["coder-vm-bootstrap-install", spec.install!.packageURL, spec.install!.sha256!])
        XCTAssertFalse(DaemonInstall.script.contains(spec.install!.packageURL))
        XCTAssertEqual(runcmd[1], ["systemctl", "enable", "coder-vm-bootstrap.service"])
        XCTAssertEqual(runcmd[2], ["systemctl", "start", "--no-block", "coder-vm-bootstrap.service"])
        for tool in [
            "apt-get install -y \"$file\"", "dnf install -y \"$file\"", "pacman -U --noconfirm \"$file\"",
            "tar -xzf \"$file\" -C \"$work/unpacked\"", "(cd \"$1\" && sh ./install.sh)", "sha256sum -c -",
        ] {
            XCTAssertTrue(DaemonInstall.script.contains(tool), tool)
        }
    }

    func testInstallScriptIsValidShAndChecksTheDigest() throws {
        let shell = try ProcessRunner.which("sh")
        XCTAssertEqual(try ProcessRunner.run(shell, ["-n", "-c", DaemonInstall.script]).status, 0)
        // A download whose digest does not match stops before anything is installed.
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let package = directory.appendingPathComponent("coder-vm-bootstrap.tar.gz")
        try Data("not the package".utf8).write(to: package)
        guard (try? ProcessRunner.which("curl")) != nil else { throw XCTSkip("curl is not installed") }
        let result = try ProcessRunner.run(
            shell,
            [
                "-c", DaemonInstall.script, "install", "file://" + package.path,
                String(repeating: "0", count: 64),
            ])
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.output.contains("FAILED") || result.stderr.contains("FAILED"), result.stderr)
        let unknown = try ProcessRunner.run(shell, ["-c", DaemonInstall.script, "install", "https://x.example/pkg.zip", ""])
        XCTAssertEqual(unknown.status, 1)
        XCTAssertTrue(unknown.stderr.contains("cannot tell the package type"), unknown.stderr)
    }

    func testStringsThatLookLikeOtherTypesAreQuoted() throws {
        for text in ["true", "no", "y", "N", "on", "null", "~", "123", "1e3", "0x10", "+.5", "2024-01-01", "1:20", "<<", "=", ""] {
            XCTAssertFalse(YAMLValue.isPlainSafe(text), text)
            let yaml = try YAMLValue.object(["v": .string(text)]).yamlDocument()
            XCTAssertEqual((try Yams.load(yaml: yaml) as? [String: Any])?["v"] as? String, text, yaml)
        }
        XCTAssertTrue(YAMLValue.isPlainSafe("coder-alice-dev"))
        XCTAssertTrue(YAMLValue.isPlainSafe("/bin/bash"))
    }
}
