import XCTest

@testable import Seed

final class DistributionPresetTests: XCTestCase {
    func testThePresetsAreTheDaemonsSevenDistributions() {
        XCTAssertEqual(
            DistributionPreset.names,
            ["debian-12", "ubuntu-22.04", "fedora-39", "arch", "almalinux-9", "centos-stream-9", "rocky-9"])
        XCTAssertEqual(DistributionPreset.default.name, "debian-12")
        for preset in DistributionPreset.all {
            XCTAssertTrue(preset.imageURL.hasPrefix("https://"), preset.name)
            // The daemon recognises a VM booted from this preset's image as this very row.
            let release = OSRelease(fields: ["ID": preset.osReleaseID].merging(preset.versionID.map { ["VERSION_ID": $0] } ?? [:]) { $1 })
            XCTAssertEqual(Distribution.matching(release), preset, preset.name)
        }
        XCTAssertNil(DistributionPreset.named("centos-7"))
    }

    func testEachPresetsPackageMustBeOfItsFamilysFormat() throws {
        let spec = try SpecFixtures.spec(try SpecFixtures.example("full.yaml"))
        let formats: [String: String] = ["deb": ".deb", "rpm": ".rpm", "pacman": ".pkg.tar.zst"]
        for preset in DistributionPreset.all {
            for (format, suffix) in formats {
                var withPackage = spec
                withPackage.install?.packageURL = "https://dl.example.com/coder-vm-bootstrap\(suffix)"
                let accepted = (try? SpecNormalizer.check(withPackage, for: preset)) != nil
                XCTAssertEqual(accepted, format == preset.family.packageFormat.rawValue, "\(preset.name) \(suffix)")
            }
        }
    }

    func testInstallPackageMustSuitTheDistribution() throws {
        let spec = try SpecFixtures.spec(try SpecFixtures.example("full.yaml"))  // a .deb
        XCTAssertNoThrow(try SpecFixtures.context(spec, preset: .named("ubuntu-22.04")!))
        XCTAssertThrowsError(try SpecFixtures.context(spec, preset: .named("rocky-9")!)) { error in
            guard case SeedError.invalidSpec(let invalid) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(invalid.diagnostics.map(\.path), ["install.packageURL"])
            XCTAssertTrue(invalid.description.contains("rocky-9"))
        }
        var unknown = spec
        unknown.install?.packageURL = "https://dl.example.com/coder-vm-bootstrap.zip"
        XCTAssertThrowsError(try SpecFixtures.context(unknown)) { error in
            XCTAssertTrue("\(error)".contains(".deb, .rpm, .pkg.tar.zst or .tar.gz"), "\(error)")
        }
    }
}
