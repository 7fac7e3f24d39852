import Distributions
import Foundation
import XCTest

/// Real os-release files (Tests/Fixtures/os-release, sources in its SOURCES.md).
func osRelease(_ file: String) throws -> OSRelease {
    let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/os-release")
    return OSRelease(contents: try String(contentsOf: folder.appendingPathComponent("\(file).os-release"), encoding: .utf8))
}

final class DistributionTableTests: XCTestCase {
    func testEachTargetsRealOSReleaseFindsItsOwnRowAndFamilyFacts() throws {
        // file, row, ssh unit, docker, admin group, CA anchors, CA update command, CA bundle, package manager
        let expected: [(String, String, String, DockerPackaging, String, String, [String], String, PackageManager)] = [
            (
                "debian-12", "debian-12", "ssh", .distributionPackage("docker.io"), "sudo",
                "/usr/local/share/ca-certificates", ["update-ca-certificates"], "/etc/ssl/certs/ca-certificates.crt", .apt
            ),
            (
                "ubuntu-22.04", "ubuntu-22.04", "ssh", .distributionPackage("docker.io"), "sudo",
                "/usr/local/share/ca-certificates", ["update-ca-certificates"], "/etc/ssl/certs/ca-certificates.crt", .apt
            ),
            (
                "fedora-39", "fedora-39", "sshd", .distributionPackage("moby-engine"), "wheel",
                "/etc/pki/ca-trust/source/anchors", ["update-ca-trust", "extract"], "/etc/pki/tls/certs/ca-bundle.crt", .dnf
            ),
            (
                "arch-rolling", "arch", "sshd", .distributionPackage("docker"), "wheel",
                "/etc/ca-certificates/trust-source/anchors", ["update-ca-trust"], "/etc/ssl/certs/ca-certificates.crt", .pacman
            ),
            (
                "almalinux-9.4", "almalinux-9", "sshd", .dockerRepository(.centos9), "wheel",
                "/etc/pki/ca-trust/source/anchors", ["update-ca-trust", "extract"], "/etc/pki/tls/certs/ca-bundle.crt", .dnf
            ),
            (
                "centos-9", "centos-stream-9", "sshd", .dockerRepository(.centos9), "wheel",
                "/etc/pki/ca-trust/source/anchors", ["update-ca-trust", "extract"], "/etc/pki/tls/certs/ca-bundle.crt", .dnf
            ),
            (
                "rocky-9.3", "rocky-9", "sshd", .dockerRepository(.centos9), "wheel",
                "/etc/pki/ca-trust/source/anchors", ["update-ca-trust", "extract"], "/etc/pki/tls/certs/ca-bundle.crt", .dnf
            ),
        ]
        XCTAssertEqual(expected.map(\.1), Distribution.all.map(\.name), "one row per target, in the table's order")
        for (file, row, sshUnit, docker, admin, anchors, update, bundle, manager) in expected {
            let release = try osRelease(file)
            let distribution = try XCTUnwrap(Distribution.matching(release), file)
            XCTAssertEqual(distribution.name, row, file)
            XCTAssertEqual(Distro.family(of: release), distribution.family, file)
            let family = distribution.family
            XCTAssertEqual(family.sshUnit, sshUnit, file)
            XCTAssertEqual(family.docker, docker, file)
            XCTAssertEqual(family.adminGroup, admin, file)
            XCTAssertEqual(family.caAnchorDirectory, anchors, file)
            XCTAssertEqual(family.caUpdateCommand, update, file)
            XCTAssertEqual(family.caBundle, bundle, file)
            XCTAssertEqual(family.packageManager, manager, file)
        }
    }

    func testPointReleasesMatchTheirReleaseButNotAnother() {
        let rocky = { (version: String?) in
            Distribution.matching(OSRelease(fields: ["ID": "rocky"].merging(version.map { ["VERSION_ID": $0] } ?? [:]) { $1 }))?.name
        }
        XCTAssertEqual(rocky("9"), "rocky-9")
        XCTAssertEqual(rocky("9.6"), "rocky-9")
        XCTAssertNil(rocky("90.1"), "9 is a release, not a prefix")
        XCTAssertNil(rocky("8.10"))
        XCTAssertNil(rocky(nil), "a release without VERSION_ID is not release 9")
        XCTAssertEqual(
            Distribution.matching(OSRelease(fields: ["ID": "arch", "VERSION_ID": "20240101"]))?.name, "arch",
            "a rolling release has no versions to miss")
    }

    func testRelatedReleasesGetTheirFamilyButNoRow() throws {
        for (file, family) in [("ubuntu-24.04", Distro.Name.debian), ("rocky-8.10", .enterpriseLinux), ("amzn-2023", .fedora)] {
            let release = try osRelease(file)
            XCTAssertNil(Distribution.matching(release), file)
            XCTAssertEqual(Distro.family(of: release)?.name, family, file)
        }
        // RHEL itself says it is like Fedora; it is the EL family.
        XCTAssertEqual(Distro.family(of: OSRelease(fields: ["ID": "rhel", "ID_LIKE": "fedora", "VERSION_ID": "9.4"]))?.name, .enterpriseLinux)
        // A derivative is matched by its ID_LIKE, in order.
        XCTAssertEqual(Distro.family(of: OSRelease(fields: ["ID": "linuxmint", "ID_LIKE": "ubuntu debian"]))?.name, .debian)
    }

    func testUnknownFamiliesAreNotGuessed() throws {
        for file in ["alpine-3.23.2", "opensuse-leap-15.6"] {
            let release = try osRelease(file)
            XCTAssertNil(Distribution.matching(release), file)
            XCTAssertNil(Distro.family(of: release), file)
        }
    }

    func testTheDaemonsPackageFormatFollowsThePackageManager() {
        XCTAssertEqual(Distribution.all.map(\.family.packageFormat), [.deb, .deb, .rpm, .pacman, .rpm, .rpm, .rpm])
    }

    func testDockersRepositoryIsSignedAndPinnedToReleaseNine() {
        let repository = DockerRepository.centos9
        let lines = repository.definition.split(separator: "\n").map(String.init)
        XCTAssertTrue(lines.contains("[docker-ce-stable]"))
        XCTAssertTrue(lines.contains("baseurl=https://download.docker.com/linux/centos/9/$basearch/stable"))
        XCTAssertTrue(lines.contains("gpgcheck=1"), "packages are checked against Docker's key")
        XCTAssertTrue(lines.contains("gpgkey=https://download.docker.com/linux/centos/gpg"))
        XCTAssertTrue(lines.contains("enabled=1"))
        XCTAssertEqual(repository.packages.first, "docker-ce")
        XCTAssertEqual(DockerRepository.folder + "/" + DockerRepository.fileName, "/etc/yum.repos.d/docker-ce.repo")
    }

    func testQuotedAndEscapedValuesAreUnquoted() {
        let release = OSRelease(contents: "# comment\nNAME=\"Foo \\\"Bar\\\"\"\nID='foo'\nVERSION_ID=1\n")
        XCTAssertEqual(release.fields["NAME"], "Foo \"Bar\"")
        XCTAssertEqual(release.id, "foo")
        XCTAssertEqual(release.versionID, "1")
    }

    func testPackageInstallsNeverAskRecoverFromAKilledInstallAndWaitForTheLock() {
        let apt = PackageManager.apt.installSteps(["docker.io"])
        XCTAssertEqual(apt.first, ["dpkg", "--configure", "-a"], "an install killed halfway is finished first")
        XCTAssertEqual(apt.last, ["apt-get", "-o", "DPkg::Lock::Timeout=300", "install", "-y", "-q", "--no-install-recommends", "docker.io"])
        XCTAssertEqual(PackageManager.apt.environment["DEBIAN_FRONTEND"], "noninteractive")
        XCTAssertEqual(PackageManager.dnf.installSteps(["moby-engine"]), [["dnf", "install", "-y", "-q", "moby-engine"]])
        XCTAssertEqual(PackageManager.pacman.installSteps(["docker"]).last?.suffix(3), ["--noconfirm", "--needed", "docker"])
    }
}
