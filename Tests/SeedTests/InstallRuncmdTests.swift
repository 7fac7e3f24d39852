import Foundation
import XCTest
import WorkspaceSpec
@testable import Seed

/// The runcmd items run as cloud-init runs them (shellify, /bin/sh), with
/// the download and install tools stubbed: the package URL reaches curl as
/// one argument however hostile it is, the right tool installs it, and the
/// daemon is enabled and started without blocking.
final class InstallRuncmdTests: XCTestCase {
    /// SHA-256 of what the stub curl downloads.
    static let stubDigest = "e2c0f267f36e94a4f4b7cef943f84aa4f73ea884b61a12d1fbe28810fa2a52f2"
    /// As hostile as a URL the validator accepts can be (RFC 3986 characters only: no quotes, backquotes, backslashes or braces).
    static let hostilePath = "/a'b/$(touch$IFS/tmp/pwned)/c;d&e=f!g*h+i,j/coder-vm-bootstrap"

    struct Run: Decodable {
        struct Call: Decodable, Equatable {
            var argv: [String]
            var https_proxy: String?
        }
        var status: Int
        var calls: [Call]
        var argvs: [[String]] { calls.map(\.argv) }
    }

    func run(_ spec: WorkspaceSpec, preset: DistributionPreset) throws -> Run {
        _ = try Validators.cloudInit()
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("user-data")
        try CloudConfig.render(try SpecFixtures.context(spec, preset: preset)).write(to: file, atomically: true, encoding: .utf8)
        let result = try Validators.python("run_runcmd.py", [file.path], interpreter: "/usr/bin/python3")
        XCTAssertEqual(result.status, 0, result.stderr)
        return try JSONDecoder().decode(Run.self, from: result.stdout)
    }

    func spec(url: String, digest: String? = stubDigest, proxy: Bool = false) throws -> WorkspaceSpec {
        var spec = try SpecFixtures.spec(try SpecFixtures.example(proxy ? "full.yaml" : "minimal.yaml"))
        spec.install = InstallSettings(packageURL: url, sha256: digest)
        // Through the decoder: only URLs the validator accepts are meaningful here.
        let encoded = try JSONEncoder().encode(spec)
        return try SpecDecoder.decode(json: encoded)
    }

    func testEachPackageKindIsInstalledWithItsTool() throws {
        let cases: [(String, String, (String) -> [String])] = [
            ("debian-12", ".deb", { ["apt-get", "install", "-y", $0] }),
            ("fedora-39", ".rpm", { ["dnf", "install", "-y", $0] }),
            ("arch", ".pkg.tar.zst", { ["pacman", "-U", "--noconfirm", $0] }),
            ("rocky-9", ".tar.gz", { ["tar", "-xzf", $0, "-C", "/", "--no-same-owner"] }),
        ]
        for (presetName, suffix, install) in cases {
            let url = "https://dl.example.com" + Self.hostilePath + suffix + "?sig='x'&t=$(id)#frag"
            let spec = try spec(url: url)
            XCTAssertEqual(spec.install?.packageURL, url, "the validator lets this URL through")
            let run = try run(spec, preset: .named(presetName)!)
            XCTAssertEqual(run.status, 0)
            let argvs = run.argvs
            XCTAssertEqual(argvs.count, 5, "\(presetName): \(argvs)")
            guard argvs.count == 5 else { continue }
            XCTAssertEqual(argvs[0].first, "curl")
            XCTAssertEqual(argvs[0].last, url, "the URL is one argument, unchanged")
            let file = argvs[0][argvs[0].firstIndex(of: "-o")! + 1]
            XCTAssertTrue(file.hasSuffix("/coder-vm-bootstrap" + suffix), file)
            XCTAssertEqual(argvs[1], install(file), presetName)
            XCTAssertEqual(argvs[2], ["systemctl", "daemon-reload"])
            XCTAssertEqual(argvs[3], ["systemctl", "enable", "coder-vm-bootstrap.service"])
            XCTAssertEqual(argvs[4], ["systemctl", "start", "--no-block", "coder-vm-bootstrap.service"])
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: "/tmp/pwned"))
    }

    func testAWrongDigestInstallsNothing() throws {
        let run = try run(try spec(url: "https://dl.example.com/coder-vm-bootstrap.deb", digest: String(repeating: "a", count: 64)),
                          preset: .default)
        XCTAssertEqual(run.argvs.map { $0.first! }, ["curl", "systemctl", "systemctl"])
        XCTAssertFalse(run.argvs.contains { ["apt-get", "dnf", "pacman", "tar"].contains($0[0]) })
    }

    func testTheDownloadUsesTheSpecsProxy() throws {
        let run = try run(try spec(url: "https://dl.example.com/coder-vm-bootstrap.deb", proxy: true), preset: .default)
        XCTAssertEqual(run.calls.first?.argv.first, "curl")
        XCTAssertEqual(run.calls.first?.https_proxy, "http://proxy.internal:3128")
    }

    func testWithoutAnInstallSectionTheDaemonIsOnlyStarted() throws {
        let run = try run(try SpecFixtures.spec(try SpecFixtures.example("minimal.yaml")), preset: .default)
        XCTAssertEqual(run.argvs, [["systemctl", "enable", "coder-vm-bootstrap.service"],
                                   ["systemctl", "start", "--no-block", "coder-vm-bootstrap.service"]])
    }
}
