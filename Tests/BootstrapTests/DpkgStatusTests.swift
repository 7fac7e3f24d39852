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

    func testAPackageDpkgDoesNotKnowHasNoState() {
        XCTAssertNil(status.state(of: "moby-engine"))
        XCTAssertNil(status.state(of: "docker"), "a name is matched whole, not as a prefix of docker.io")
    }
}
