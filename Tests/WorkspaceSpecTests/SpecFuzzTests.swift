import Foundation
import XCTest

@testable import WorkspaceSpec

/// Mutated example specs, as someone who controls the spec (or a corrupted
/// disk) could hand them to the daemon: no input may crash the decoder, and
/// every refusal must say which field is wrong. Only a problem with the whole
/// document (not JSON, larger than 1 MiB, not a mapping) is reported at the
/// empty path, and then alone.
///
/// `SPEC_FUZZ_COUNT` sets how many inputs; `SPEC_FUZZ_SEED` starts the
/// generator elsewhere. The same seed gives the same inputs. The default
/// keeps `swift test` quick: an input costs about 1 ms of CPU in a debug
/// build, so 10,000 and the check-config sample take some 20 s of CPU
/// (100,000 would take nearly two minutes).
final class SpecFuzzTests: XCTestCase {
    static let defaultCount = 10_000
    static let defaultSeed: UInt64 = 0x5eed_c0de_2113
    /// Inputs, spread over the run, that also go through the real daemon's check-config.
    static let commandLineSample = 200

    func testMutatedSpecsNeverCrashAndEveryRefusalNamesItsField() throws {
        let environment = ProcessInfo.processInfo.environment
        let count = environment["SPEC_FUZZ_COUNT"].flatMap { Int($0) } ?? Self.defaultCount
        let seed = environment["SPEC_FUZZ_SEED"].flatMap { UInt64($0) } ?? Self.defaultSeed
        let mutator = SpecMutator(seed: seed)
        var outcome = FuzzOutcome()
        var sample: [Data] = []
        let stride = max(1, count / Self.commandLineSample)
        for index in 0..<count {
            let input = mutator.next()
            outcome.record(input, index: index)
            if index % stride == 0, sample.count < Self.commandLineSample { sample.append(input) }
            if outcome.failures.count >= 10 { break }
        }
        for failure in outcome.failures { XCTFail(failure) }
        print(
            "spec fuzzer: \(outcome.inputs) inputs from seed \(seed): \(outcome.accepted) accepted, "
                + "\(outcome.refusedByField) refused naming fields, \(outcome.refusedWhole) refused as a whole document; "
                + "\(outcome.paths.count) distinct diagnostic paths")
        XCTAssertEqual(outcome.inputs, count)
        if count >= 1000 {
            // A fuzzer that only ever breaks the JSON tests nothing: most inputs must reach the field rules.
            XCTAssertGreaterThan(outcome.refusedByField, count / 2)
            XCTAssertGreaterThan(outcome.accepted, 0)
            XCTAssertGreaterThan(outcome.paths.count, 100)
        }

        try checkThroughTheDaemon(sample)
    }

    /// The seeds are copies: full.json must still be the example file, and
    /// the minimal spec must still say what the README's (minimal.yaml) says.
    func testFuzzSeedsAreStillTheREADMEExamples() throws {
        let seed = { (text: String) in try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8)) }
        XCTAssertEqual(try seed(SpecFuzzSeeds.full), try exampleJSON("full.json"))
        let yaml = try String(contentsOf: repositoryRoot.appendingPathComponent("examples/specs/minimal.yaml"), encoding: .utf8)
        var leaves: [String] = []
        func collect(_ value: JSONValue) {
            switch value {
            case .string(let text): leaves.append(text)
            case .array(let items):
                for item in items { collect(item) }
            case .object(let fields):
                for field in fields {
                    leaves.append(field.key)
                    collect(field.value)
                }
            default: XCTFail("the minimal spec holds strings only")
            }
        }
        collect(try seed(SpecFuzzSeeds.minimal))
        for leaf in leaves { XCTAssertTrue(yaml.contains(leaf), "minimal.yaml no longer says \(leaf)") }
        XCTAssertEqual(yaml.split(separator: "\n").filter { !$0.hasPrefix("#") && !$0.hasPrefix("    ") }.count, 8, "minimal.yaml has other fields now")
        XCTAssertNoThrow(try SpecDecoder.decode(json: Data(SpecFuzzSeeds.minimal.utf8)))
    }

    /// The sample through `coder-vm-bootstrap check-config`: exit 0, 66 or 78
    /// only, the same verdict as the library, and each field named on stderr.
    private func checkThroughTheDaemon(_ inputs: [Data]) throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("spec-fuzz-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let results = ResultBox(count: inputs.count)
        DispatchQueue.concurrentPerform(iterations: inputs.count) { index in
            results.set(index, Result { try Self.checkConfig(inputs[index], in: folder, index: index) })
        }
        var exits: [Int32: Int] = [:]
        for (index, result) in results.all.enumerated() {
            switch result {
            case .success(let problem?): XCTFail("sample \(index): \(problem)")
            case .success(nil): break
            case .failure(let error): XCTFail("sample \(index): \(error)")
            }
        }
        for status in results.statuses { exits[status, default: 0] += 1 }
        let counts = exits.sorted { $0.key < $1.key }.map { "\($0.value) exited \($0.key)" }.joined(separator: ", ")
        print("spec fuzzer: \(inputs.count) of them through check-config: \(counts)")
    }

    /// Nil when the daemon agreed with the library, else what differed.
    private static func checkConfig(_ input: Data, in folder: URL, index: Int) throws -> (String?, Int32) {
        let file = folder.appendingPathComponent("\(index).json")
        try input.write(to: file)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: file.path)
        let expected: (status: Int32, paths: [String])
        do {
            _ = try SpecFile.load(path: file.path)
            expected = (0, [])
        } catch {
            switch error {
            case .unreadable: expected = (66, [])
            case .invalid(let invalid): expected = (78, invalid.diagnostics.map { $0.path.isEmpty ? "(top level)" : $0.path })
            }
        }
        let (reason, status, output) = try runCheckConfig(file)
        let shown = String(decoding: input.prefix(300), as: UTF8.self)
        guard reason == .exit, [0, 66, 78].contains(status) else {
            return ("check-config ended with \(reason == .exit ? "exit" : "signal") \(status) on \(shown)", -1)
        }
        if status != expected.status {
            return ("check-config exited \(status), the library says \(expected.status): \(output)", status)
        }
        if let missing = expected.paths.first(where: { !output.contains("  \($0): ") }) {
            return ("check-config exited 78 without naming \(missing): \(output)", status)
        }
        return (nil, status)
    }
}

/// What the run saw, and the first few inputs that broke a rule.
struct FuzzOutcome {
    var inputs = 0
    var accepted = 0
    var refusedByField = 0
    var refusedWhole = 0
    var paths: Set<String> = []
    var failures: [String] = []

    static let wholeDocumentMessages = ["not valid JSON", "is larger than 1 MiB", "must be a mapping"]

    mutating func record(_ input: Data, index: Int) {
        inputs += 1
        let diagnostics: [SpecDiagnostic]
        do {
            let spec = try SpecDecoder.decode(json: input)
            let problems = SpecFile.hostProblems(spec, specPath: nil)
            guard !problems.isEmpty else {
                accepted += 1
                return
            }
            diagnostics = problems
        } catch {
            diagnostics = error.diagnostics
        }
        paths.formUnion(diagnostics.map(\.path))
        let shown = String(decoding: input.prefix(300), as: UTF8.self)
        if diagnostics.isEmpty {
            failures.append("input \(index): refused without a diagnostic: \(shown)")
        } else if let whole = diagnostics.first(where: { $0.path.isEmpty }) {
            refusedWhole += 1
            if diagnostics.count != 1 || !Self.wholeDocumentMessages.contains(where: whole.message.hasPrefix) {
                failures.append("input \(index): a diagnostic without a field path: \(diagnostics) for \(shown)")
            }
        } else {
            refusedByField += 1
        }
        if let mute = diagnostics.first(where: { $0.hint == nil && !$0.message.hasSuffix("required") && $0.message != "must not be empty" }) {
            failures.append("input \(index): no hint in \(mute) for \(shown)")
        }
    }
}

/// Results written from several threads, read after they are all done.
final class ResultBox: @unchecked Sendable {
    private let lock = NSLock()
    private var results: [Result<String?, Error>]
    private(set) var statuses: [Int32] = []

    init(count: Int) { results = Array(repeating: .success(nil), count: count) }

    func set(_ index: Int, _ result: Result<(String?, Int32), Error>) {
        lock.withLock {
            results[index] = result.map(\.0)
            if case .success(let (_, status)) = result { statuses.append(status) }
        }
    }

    var all: [Result<String?, Error>] { lock.withLock { results } }
}
