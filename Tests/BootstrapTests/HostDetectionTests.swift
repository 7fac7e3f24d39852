import Foundation
import WorkspaceSpec
import XCTest

@testable import Bootstrap

/// Real os-release files of the target distributions (Tests/Fixtures/os-release).
private let osReleaseFolder = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures/os-release")

private func detect(_ file: String) throws -> HostDetection {
    let text = try String(contentsOf: osReleaseFolder.appendingPathComponent("\(file).os-release"), encoding: .utf8)
    return HostDetection(OSRelease(contents: text))
}

final class HostDetectionTests: XCTestCase {
    private let targets = ["debian-12", "ubuntu-22.04", "fedora-39", "arch-rolling", "almalinux-9.4", "centos-9", "rocky-9.3"]

    func testTheSevenFirstClassDistributionsAreRecognisedWithoutANote() throws {
        for file in targets {
            let host = try detect(file)
            XCTAssertTrue(host.firstClass, file)
            XCTAssertNil(host.note, file)
            XCTAssertEqual(host.distro, host.distribution?.family, file)
        }
    }

    func testRelatedButUntestedReleasesUseTheirFamilyWithANote() throws {
        for (file, family) in [("ubuntu-24.04", Distro.Name.debian), ("rocky-8.10", .enterpriseLinux), ("amzn-2023", .fedora)] {
            let host = try detect(file)
            XCTAssertFalse(host.firstClass, file)
            XCTAssertEqual(host.distro?.name, family, file)
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

    func testEachFamilyInstallsDockerFromItsOwnRepositories() throws {
        let expected: [(String, PackageManager, [String])] = [
            ("debian-12", .apt, ["docker.io"]), ("ubuntu-22.04", .apt, ["docker.io"]),
            ("fedora-39", .dnf, ["moby-engine"]), ("arch-rolling", .pacman, ["docker"]),
        ]
        for (file, manager, packages) in expected {
            // Allowing Docker's repository changes nothing where the distribution has docker.
            for allow in [false, true] {
                let plan = try DockerComponent.installPlan(on: try detect(file), settings: DockerSettings(allowDockerRepository: allow))
                XCTAssertEqual(plan, .init(packageManager: manager, packages: packages, repository: nil), file)
            }
        }
    }

    func testEL9InstallsDockerCEFromDockersRepositoryOnlyWhenTheSpecAllowsIt() throws {
        for file in ["almalinux-9.4", "centos-9", "rocky-9.3"] {
            let host = try detect(file)
            XCTAssertThrowsError(try DockerComponent.installPlan(on: host, settings: DockerSettings())) { error in
                let failure = error as! ComponentError
                XCTAssertEqual(failure.kind, .configuration, "not retried in a loop: the spec must change")
                XCTAssertTrue(failure.description.contains(host.osRelease.prettyName), failure.description)
                XCTAssertTrue(failure.description.contains("docker.allowDockerRepository: true"), failure.description)
                XCTAssertTrue(failure.description.contains("bake docker into the image"), failure.description)
            }
            let plan = try DockerComponent.installPlan(on: host, settings: DockerSettings(allowDockerRepository: true))
            XCTAssertEqual(plan.repository, .centos9, file)
            XCTAssertEqual(plan.packageManager, .dnf, file)
            XCTAssertEqual(plan.packages, ["docker-ce", "docker-ce-cli", "containerd.io", "docker-buildx-plugin", "docker-compose-plugin"], file)
        }
    }

    func testNoInstallIsPlannedWhenTheSpecForbidsItOrTheFamilyIsUnknown() throws {
        XCTAssertThrowsError(try DockerComponent.installPlan(on: try detect("fedora-39"), settings: DockerSettings(install: false))) {
            XCTAssertTrue("\($0)".contains("docker.install is false"), "\($0)")
        }
        XCTAssertThrowsError(try DockerComponent.installPlan(on: try detect("alpine-3.23.2"), settings: DockerSettings())) {
            XCTAssertTrue("\($0)".contains("distribution is unknown"), "\($0)")
        }
    }
}
