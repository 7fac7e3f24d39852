import Foundation
import WorkspaceSpec
import XCTest

@testable import Seed

/// The runcmd items run as cloud-init runs them (shellify, /bin/sh), with
/// the download and install tools stubbed: the package URL reaches curl as
/// one argument however hostile it is, the right tool installs it, and the
/// daemon is enabled and started without blocking. The release tarball is
/// unpacked by the real tar and its install.sh (a stand-in with the
/// release's layout) runs from its folder.
final class InstallRuncmdTests: XCTestCase {
    /// SHA-256 of what the stub curl downloads.
    static let stubDigest = "e2c0f267f36e94a4f4b7cef943f84aa4f73ea884b61a12d1fbe28810fa2a52f2"
    /// As hostile as a URL the validator accepts can be (RFC 3986 characters only: no quotes, backquotes, backslashes or braces).
    static let hostilePath = "/a'b/$(touch$IFS/tmp/pwned)/c;d&e=f!g*h+i,j/coder-vm-bootstrap"

    struct Run: Decodable {
        struct Call: Decodable, Equatable {
            var argv: [String]
            var https_proxy: String?
            var cwd: String?
            var files: [String]?
        }
        var status: Int
        var calls: [Call]
        var argvs: [[String]] { calls.map(\.argv) }
    }

    /// `package`: what the stub curl downloads (default: a few stub bytes).
    func run(
        _ spec: WorkspaceSpec, preset: DistributionPreset, package: URL? = nil,
        realTools: [String] = []
    ) throws -> (run: Run, stderr: String) {
        _ = try Validators.cloudInit()
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("user-data")
        try CloudConfig.render(try SpecFixtures.context(spec, preset: preset)).write(to: file, atomically: true, encoding: .utf8)
        let options = (package.map { ["--package", $0.path] } ?? []) + realTools.flatMap { ["--real", $0] }
        let result = try Validators.python("run_runcmd.py", options + [file.path], interpreter: "/usr/bin/python3")
        XCTAssertEqual(result.status, 0, result.stderr)
        return (try JSONDecoder().decode(Run.self, from: result.stdout), result.stderr)
    }

    static let releaseFolder = "coder-vm-bootstrap-0.1.0-linux-amd64"

    /// A tarball in the release's layout whose install.sh is a stand-in
    /// that records where it ran and what it found there.
    func releaseTarball(in directory: URL, topFolder: String? = releaseFolder) throws -> (file: URL, sha256: String) {
        let root = directory.appendingPathComponent("tree")
        let top = topFolder.map { root.appendingPathComponent($0) } ?? root
        for folder in ["units", "man"] {
            try FileManager.default.createDirectory(at: top.appendingPathComponent(folder), withIntermediateDirectories: true)
        }
        try "#!/bin/sh\necho stand-in daemon\n".write(to: top.appendingPathComponent("coder-vm-bootstrap"), atomically: true, encoding: .utf8)
        try "[Unit]\n".write(to: top.appendingPathComponent("units/coder-vm-bootstrap.service"), atomically: true, encoding: .utf8)
        try ".TH coder-vm-bootstrap 8\n".write(to: top.appendingPathComponent("man/coder-vm-bootstrap.8"), atomically: true, encoding: .utf8)
        try """
        #!/bin/sh
        # Stand-in for the release's install.sh: records how it was run.
        files=$(ls | sed 's/.*/"&"/' | paste -sd, -)
        printf '{"argv": ["install.sh"], "cwd": "%s", "files": [%s]}\\n' "$PWD" "$files" >> "$RUNCMD_LOG"

        """.write(to: top.appendingPathComponent("install.sh"), atomically: true, encoding: .utf8)
        let tarball = directory.appendingPathComponent("\(Self.releaseFolder).tar.gz")
        let tar = try ProcessRunner.run("tar", ["-czf", tarball.path, "-C", root.path] + (topFolder.map { [$0] } ?? ["."]))
        XCTAssertEqual(tar.status, 0, tar.stderr)
        let digest = try ProcessRunner.run("sha256sum", [tarball.path])
        return (tarball, String(digest.output.prefix(64)))
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
        ]
        for (presetName, suffix, install) in cases {
            let url = "https://dl.example.com" + Self.hostilePath + suffix + "?sig='x'&t=$(id)#frag"
            let spec = try spec(url: url)
            XCTAssertEqual(spec.install?.packageURL, url, "the validator lets this URL through")
            let run = try run(spec, preset: .named(presetName)!).run
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

    func testTheReleaseTarballRunsItsInstallScriptFromItsOwnFolder() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let tarball = try releaseTarball(in: directory)
        let url = "https://dl.example.com" + Self.hostilePath + "/\(Self.releaseFolder).tar.gz?sig='x'"
        for presetName in ["rocky-9", "debian-12", "arch"] {
            let run = try run(
                try spec(url: url, digest: tarball.sha256), preset: .named(presetName)!,
                package: tarball.file, realTools: ["tar"]
            ).run
            XCTAssertEqual(run.status, 0)
            XCTAssertEqual(run.argvs.first?.first, "curl", presetName)
            XCTAssertEqual(run.argvs.first?.last, url, presetName)
            XCTAssertEqual(
                Array(run.argvs.dropFirst()),
                [
                    ["install.sh"], ["systemctl", "daemon-reload"],
                    ["systemctl", "enable", "coder-vm-bootstrap.service"],
                    ["systemctl", "start", "--no-block", "coder-vm-bootstrap.service"],
                ],
                presetName)
            let install = try XCTUnwrap(run.calls.first { $0.argv == ["install.sh"] })
            XCTAssertTrue(install.cwd?.hasSuffix("/unpacked/\(Self.releaseFolder)") == true, "\(install)")
            XCTAssertEqual(install.files, ["coder-vm-bootstrap", "install.sh", "man", "units"])
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: "/\(Self.releaseFolder)"), "nothing is unpacked into /")
        XCTAssertFalse(FileManager.default.fileExists(atPath: "/tmp/pwned"))
    }

    func testATarballWithoutTheReleaseFolderRunsNothingFromIt() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        // install.sh at the top, as an old-style tarball meant for `tar -C /` would have it.
        let tarball = try releaseTarball(in: directory, topFolder: nil)
        let (run, stderr) = try run(
            try spec(url: "https://dl.example.com/coder-vm-bootstrap.tar.gz", digest: tarball.sha256),
            preset: .default, package: tarball.file, realTools: ["tar"])
        XCTAssertEqual(run.argvs.map { $0.first! }, ["curl", "systemctl", "systemctl"], "no install.sh, no daemon-reload")
        XCTAssertTrue(stderr.contains("does not hold one folder coder-vm-bootstrap-VERSION-linux-ARCH/"), stderr)
    }

    func testAWrongDigestInstallsNothing() throws {
        let run = try run(
            try spec(url: "https://dl.example.com/coder-vm-bootstrap.deb", digest: String(repeating: "a", count: 64)),
            preset: .default
        ).run
        XCTAssertEqual(run.argvs.map { $0.first! }, ["curl", "systemctl", "systemctl"])
        XCTAssertFalse(run.argvs.contains { ["apt-get", "dnf", "pacman", "tar"].contains($0[0]) })
    }

    func testTheDownloadUsesTheSpecsProxy() throws {
        let run = try run(try spec(url: "https://dl.example.com/coder-vm-bootstrap.deb", proxy: true), preset: .default).run
        XCTAssertEqual(run.calls.first?.argv.first, "curl")
        XCTAssertEqual(run.calls.first?.https_proxy, "http://proxy.internal:3128")
    }

    func testWithoutAnInstallSectionTheDaemonIsOnlyStarted() throws {
        let run = try run(try SpecFixtures.spec(try SpecFixtures.example("minimal.yaml")), preset: .default).run
        XCTAssertEqual(
            run.argvs,
            [
                ["systemctl", "enable", "coder-vm-bootstrap.service"],
                ["systemctl", "start", "--no-block", "coder-vm-bootstrap.service"],
            ])
    }
}
