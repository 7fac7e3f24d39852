import Foundation
import XCTest
@testable import Bootstrap

/// Real os-release files of the target distributions, kept in
/// Tests/Fixtures/os-release (sources in Tests/Fixtures/SOURCES.md).
private let osReleaseFolder = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures/os-release")

private func detect(_ file: String) throws -> HostDetection {
    let text = try String(contentsOf: osReleaseFolder.appendingPathComponent("\(file).os-release"), encoding: .utf8)
    return HostDetection(OSRelease(contents: text))
}

final class HostDetectionTests: XCTestCase {
    func testTheSevenFirstClassDistributionsGetTheirFacts() throws {
        // file, ssh unit, docker package, admin group, CA anchors, package manager
        let expected: [(String, String, String?, String, String, Distro.PackageManager)] = [
            ("debian-12", "ssh", "docker.io", "sudo", "/usr/local/share/ca-certificates", .apt),
            ("ubuntu-22.04", "ssh", "docker.io", "sudo", "/usr/local/share/ca-certificates", .apt),
            ("fedora-39", "sshd", "moby-engine", "wheel", "/etc/pki/ca-trust/source/anchors", .dnf),
            ("arch-rolling", "sshd", "docker", "wheel", "/etc/ca-certificates/trust-source/anchors", .pacman),
            ("almalinux-9.4", "sshd", nil, "wheel", "/etc/pki/ca-trust/source/anchors", .dnf),
            ("centos-9", "sshd", nil, "wheel", "/etc/pki/ca-trust/source/anchors", .dnf),
            ("rocky-9.3", "sshd", nil, "wheel", "/etc/pki/ca-trust/source/anchors", .dnf),
        ]
        for (file, sshUnit, docker, admin, anchors, manager) in expected {
            let host = try detect(file)
            XCTAssertTrue(host.firstClass, file)
            XCTAssertNil(host.note, file)
            let distro = try XCTUnwrap(host.distro, file)
            XCTAssertEqual(distro.sshUnit, sshUnit, file)
            XCTAssertEqual(distro.dockerPackage, docker, file)
            XCTAssertEqual(distro.adminGroup, admin, file)
            XCTAssertEqual(distro.caAnchorDirectory, anchors, file)
            XCTAssertEqual(distro.packageManager, manager, file)
        }
    }

    func testRelatedButUntestedReleasesUseTheirFamilyWithANote() throws {
        for (file, family) in [("ubuntu-24.04", Distro.Family.debian), ("rocky-8.10", .enterpriseLinux), ("amzn-2023", .fedora)] {
            let host = try detect(file)
            XCTAssertFalse(host.firstClass, file)
            XCTAssertEqual(host.distro?.family, family, file)
            XCTAssertTrue(host.note?.contains("not tested") ?? false, file)
        }
    }

    func testUnknownDistributionIsNamedAndNothingIsGuessed() throws {
        for (file, id) in [("alpine-3.23.2", "alpine"), ("opensuse-leap-15.6", "opensuse-leap")] {
            let host = try detect(file)
            XCTAssertNil(host.distro, file)
            XCTAssertTrue(host.note?.contains("ID=\(id)") ?? false, host.note ?? "no note")
            XCTAssertTrue(host.note?.contains("skipped") ?? false, host.note ?? "no note")
        }
    }

    func testQuotedAndEscapedValuesAreUnquoted() {
        let release = OSRelease(contents: "# comment\nNAME=\"Foo \\\"Bar\\\"\"\nID='foo'\nVERSION_ID=1\n")
        XCTAssertEqual(release.fields["NAME"], "Foo \"Bar\"")
        XCTAssertEqual(release.id, "foo")
        XCTAssertEqual(release.versionID, "1")
    }

    func testPackageInstallCommandsDoNotAsk() {
        XCTAssertEqual(Distro.PackageManager.apt.installCommand(["docker.io"]),
                       ["apt-get", "install", "-y", "--no-install-recommends", "docker.io"])
        XCTAssertEqual(Distro.PackageManager.pacman.installCommand(["docker"]).suffix(3), ["--noconfirm", "--needed", "docker"])
    }
}
