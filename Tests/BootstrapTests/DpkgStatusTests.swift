import XCTest

@testable import Bootstrap

/// How the docker component tells an install killed halfway from a finished one.
final class DpkgStatusTests: XCTestCase {
    private let status = DpkgStatus(
        Array(
            """
            Package: containerd
            Status: install ok installed
            Version: 1.6.20~ds1-1+b1

            Package: docker.io
            Status: install ok unpacked
            Priority: optional

            """.utf8))

    func testAPackageUnpackedButNeverConfiguredIsNotInstalled() {
        XCTAssertEqual(status.state(of: "docker.io"), "install ok unpacked")
        XCTAssertEqual(status.state(of: "containerd"), "install ok installed")
    }

    func testTheStatusIsTheMatchedStanzasWhereverItsLinesAreAndTheFileMayEndWithoutABlankLine() {
        let status = DpkgStatus(Array("Package: a\nStatus: install ok installed\n\nVersion: 2\nStatus: deinstall ok config-files\nPackage: docker.io".utf8))
        XCTAssertEqual(status.state(of: "docker.io"), "deinstall ok config-files")
        XCTAssertEqual(status.state(of: "a"), "install ok installed")
        XCTAssertNil(DpkgStatus(Array("Package: docker.io\nVersion: 1\n".utf8)).state(of: "docker.io"), "a stanza without a Status line")
    }

    func testAPackageDpkgDoesNotKnowHasNoState() {
        XCTAssertNil(status.state(of: "moby-engine"))
        XCTAssertNil(status.state(of: "docker"), "a name is matched whole, not as a prefix of docker.io")
    }
}
