import Foundation
import WorkspaceSpec
import XCTest

@testable import Seed

/// Where things are: the repository, its test data (Tests/Fixtures, with
/// SOURCES.md), the Python validators, and the built coder-vm-seed.
enum Paths {
    static let repositoryRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let fixtures = repositoryRoot.appendingPathComponent("Tests/Fixtures")
    static let validators = repositoryRoot.appendingPathComponent("Tests/SeedTests/Validators")
    static let exampleSpecs = repositoryRoot.appendingPathComponent("examples/specs")
    static let template = repositoryRoot.appendingPathComponent("examples/kubevirt-template/main.tf")

    /// The executable sits beside the test bundle in the build directory
    /// (the test target depends on it, so `swift test` builds it).
    static var seedBinary: URL {
        let candidates = [
            Bundle.main.bundleURL, Bundle(for: ProcessRunner.self).bundleURL,
            URL(fileURLWithPath: CommandLine.arguments[0]),
        ]
        for bundle in candidates {
            var directory = bundle.deletingLastPathComponent()
            for _ in 0..<3 {
                let binary = directory.appendingPathComponent("coder-vm-seed")
                var isDirectory: ObjCBool = false
                // A folder of that name (a clone called coder-vm-seed) does not count.
                if FileManager.default.fileExists(atPath: binary.path, isDirectory: &isDirectory), !isDirectory.boolValue,
                    FileManager.default.isExecutableFile(atPath: binary.path)
                {
                    return binary
                }
                directory = directory.deletingLastPathComponent()
            }
        }
        return candidates[0].deletingLastPathComponent().appendingPathComponent("coder-vm-seed")
    }
}

struct ProcessResult {
    var status: Int32
    var stdout: Data
    var stderr: String
    var output: String { String(decoding: stdout, as: UTF8.self) }
}

/// Runs programs with files (not pipes) for their output, so a chatty
/// program can never block on a full pipe.
final class ProcessRunner {
    static func run(
        _ executable: String, _ arguments: [String], stdin: Data = Data(),
        environment: [String: String]? = nil
    ) throws -> ProcessResult {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("seed-run-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let input = directory.appendingPathComponent("stdin"), output = directory.appendingPathComponent("stdout"),
            errors = directory.appendingPathComponent("stderr")
        try stdin.write(to: input)
        _ = FileManager.default.createFile(atPath: output.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errors.path, contents: nil)

        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable.hasPrefix("/") ? executable : try which(executable))
        process.arguments = arguments
        if let environment { process.environment = environment }
        process.currentDirectoryURL = Paths.repositoryRoot
        process.standardInput = try FileHandle(forReadingFrom: input)
        process.standardOutput = try FileHandle(forWritingTo: output)
        process.standardError = try FileHandle(forWritingTo: errors)
        try process.run()
        process.waitUntilExit()
        return ProcessResult(
            status: process.terminationStatus, stdout: try Data(contentsOf: output),
            stderr: String(decoding: try Data(contentsOf: errors), as: UTF8.self))
    }

    static func seed(_ arguments: [String], stdin: Data = Data()) throws -> ProcessResult {
        try run(Paths.seedBinary.path, arguments, stdin: stdin)
    }

    struct NotFound: Error, CustomStringConvertible {
        var name: String
        var description: String { "\(name) is not on PATH" }
    }

    static func which(_ name: String) throws -> String {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for directory in path.split(separator: ":") {
            let candidate = "\(directory)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        throw NotFound(name: name)
    }
}

/// External validators: a test skips (with the install command) when one
/// is missing, unless CODER_VM_SEED_REQUIRE_VALIDATORS=1, as CI should set.
enum Validators {
    static var required: Bool { ProcessInfo.processInfo.environment["CODER_VM_SEED_REQUIRE_VALIDATORS"] == "1" }

    static func missing(_ message: String) throws -> Never {
        if required {
            XCTFail("\(message) (CODER_VM_SEED_REQUIRE_VALIDATORS=1)")
            throw XCTSkip("failed above")
        }
        throw XCTSkip(message)
    }

    static let canIsolateNetwork: Bool =
        (try? ProcessRunner.which("unshare")) != nil && (try? ProcessRunner.run("unshare", ["--net", "true"]))?.status == 0

    static func cloudInit() throws -> String {
        guard let path = try? ProcessRunner.which("cloud-init") else {
            try missing("cloud-init is not installed: apt-get install -y cloud-init (Debian 12 ships 22.4)")
        }
        return path
    }

    /// Runs a script under Validators/; exit 3 means a Python module is missing.
    /// `offline`: run in a new network namespace (`unshare --net`) when that works here.
    static func python(
        _ script: String, _ arguments: [String], interpreter: String = "python3",
        offline: Bool = false
    ) throws -> ProcessResult {
        let found =
            interpreter.hasPrefix("/")
            ? (FileManager.default.isExecutableFile(atPath: interpreter) ? interpreter : nil)
            : try? ProcessRunner.which(interpreter)
        guard let python = found else { try missing("\(interpreter) is not installed") }
        let command = [python, Paths.validators.appendingPathComponent(script).path] + arguments
        let result =
            offline && canIsolateNetwork
            ? try ProcessRunner.run("unshare", ["--net"] + command)
            : try ProcessRunner.run(command[0], Array(command.dropFirst()))
        if result.status == 3 {
            try missing("\(result.output.trimmingCharacters(in: .whitespacesAndNewlines)) (pip install -r Tests/SeedTests/Validators/requirements.txt)")
        }
        return result
    }
}

/// A fresh directory for one test's files.
func makeTemporaryDirectory(_ name: String = #function) throws -> URL {
    let safe = name.filter { $0.isLetter || $0.isNumber }
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("seed-\(safe)-\(UUID().uuidString.prefix(8))")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

extension JSONValue {
    /// Test helper: read or write a nested value by keys.
    subscript(keys keys: String...) -> JSONValue? {
        get { value(at: keys) }
        set { if let newValue { set(keys, newValue) } else { remove(keys) } }
    }
}

/// The spec the daemon would read, taken back out of rendered user-data
/// the way the project describes: parse the YAML, find the bootcmd item
/// with the here-document, take the JSON between its lines, decode it.
func specEmbedded(inUserData userData: String) throws -> WorkspaceSpec {
    let json = try embeddedSpecJSON(inUserData: userData)
    return try SpecDecoder.decode(json: Data(json.utf8))
}

func embeddedSpecJSON(inUserData userData: String) throws -> String {
    let tree = try SpecTreeParserForTests.load(userData)
    guard case .object(let root) = tree, case .array(let bootcmd)? = root["bootcmd"] else {
        throw TestFailure("no bootcmd list in the user-data")
    }
    let commands = bootcmd.compactMap { item -> String? in
        if case .string(let text) = item, text.contains("<<'\(SpecDelivery.heredocDelimiter)'") { return text }
        return nil
    }
    guard commands.count == 1 else { throw TestFailure("expected one bootcmd item with the here-document, found \(commands.count)") }
    let lines = commands[0].split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    guard let start = lines.firstIndex(where: { $0.hasSuffix("<<'CODER_VM_SPEC'") }),
        let end = lines[(start + 1)...].firstIndex(of: "CODER_VM_SPEC")
    else {
        throw TestFailure("the here-document is not delimited as expected")
    }
    return lines[(start + 1)..<end].joined(separator: "\n")
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
