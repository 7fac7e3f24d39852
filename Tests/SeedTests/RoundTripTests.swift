import Foundation
import WorkspaceSpec
import XCTest

@testable import Seed

/// The spec taken back out of the rendered user-data is the spec that went in.
final class RoundTripTests: XCTestCase {
    func testEveryExampleSpecRoundTripsThroughTheUserData() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Paths.exampleSpecs.path)
            .filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".json") }.sorted()
        XCTAssertGreaterThanOrEqual(files.count, 3)
        for file in files {
            let spec = try SpecTreeParser.decodeSpec(try SpecFixtures.example(file), source: file)
            for preset in DistributionPreset.all where (try? SpecNormalizer.check(spec, for: preset)) != nil {
                let userData = try CloudConfig.render(try SpecFixtures.context(spec, preset: preset))
                XCTAssertEqual(try specEmbedded(inUserData: userData), spec, "\(file) on \(preset.name)")
            }
        }
    }

    func testEveryVariantRoundTripsAfterNormalization() throws {
        for (name, spec, preset) in try SpecFixtures.matrix() {
            let context = try SpecFixtures.context(spec, preset: preset)
            XCTAssertEqual(try specEmbedded(inUserData: try CloudConfig.render(context)), context.spec, name)
            // Normalization changes nothing but an over-long default host name.
            var expected = spec
            expected.hostname = context.spec.hostname
            XCTAssertEqual(context.spec, expected, name)
        }
    }

    /// README.md is written elsewhere: every ```yaml block in it that is a
    /// spec must parse, validate and round-trip.
    func testREADMESpecBlocksValidateAndRoundTrip() throws {
        let readme = Paths.repositoryRoot.appendingPathComponent("README.md")
        var blocks: [(String, String)] = []
        if let text = try? String(contentsOf: readme, encoding: .utf8) {
            blocks = Self.specBlocks(inMarkdown: text).enumerated().map { ("README.md block \($0.offset + 1)", $0.element) }
        }
        for file in try FileManager.default.contentsOfDirectory(atPath: Paths.exampleSpecs.path) where file.hasSuffix(".yaml") {
            blocks.append((file, try SpecFixtures.example(file)))
        }
        for (name, yaml) in blocks {
            do {
                let spec = try SpecTreeParser.decodeSpec(yaml, source: name)
                let preset = DistributionPreset.all.first { (try? SpecNormalizer.check(spec, for: $0)) != nil }!
                let context = try SpecFixtures.context(spec, preset: preset)
                XCTAssertEqual(try specEmbedded(inUserData: try CloudConfig.render(context)), context.spec, name)
            } catch {
                XCTFail("\(name): \(error)")
            }
        }
    }

    func testMarkdownBlockExtraction() {
        let markdown = """
            Text
            ```yaml
            apiVersion: coder-vm-bootstrap/v1
            user: {name: a}
            ```
            ```yaml
            apiVersion: v1
            kind: Secret
            ```
            ```json
            {"apiVersion": "coder-vm-bootstrap/v1"}
            ```
              ```yaml
              # a comment first
              apiVersion: coder-vm-bootstrap/v1
              ```
            """
        XCTAssertEqual(
            Self.specBlocks(inMarkdown: markdown),
            [
                "apiVersion: coder-vm-bootstrap/v1\nuser: {name: a}\n",
                "# a comment first\napiVersion: coder-vm-bootstrap/v1\n",
            ])
    }

    /// Fenced ```yaml blocks whose first non-comment line is the spec's apiVersion.
    static func specBlocks(inMarkdown text: String) -> [String] {
        var blocks: [String] = []
        var current: [String]?
        var indent = 0
        for line in text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if current == nil {
                if trimmed == "```yaml" || trimmed == "```yml" {
                    current = []
                    indent = line.prefix { $0 == " " }.count
                }
            } else if trimmed == "```" {
                let body = current!.joined(separator: "\n") + "\n"
                let first = current!.first { !$0.trimmingCharacters(in: .whitespaces).isEmpty && !$0.hasPrefix("#") }
                if first?.trimmingCharacters(in: .whitespaces) == "apiVersion: \(WorkspaceSpec.currentAPIVersion)" {
                    blocks.append(body)
                }
                current = nil
            } else {
                current!.append(String(line.dropFirst(min(indent, line.prefix { $0 == " " }.count))))
            }
        }
        return blocks
    }
}
