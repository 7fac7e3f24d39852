// What every Fetch scenario shares: a fault server serving a.bin, a
// scratch directory, and helpers to look at files.
import Foundation
import XCTest

@testable import Fetch

class FetchTestCase: XCTestCase {
    var server: FaultServer!
    var directory: URL!
    let content = randomBytes(300_000)

    override func setUp() async throws {
        server = try FaultServer()
        try server.serve("a.bin", content)
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("fetch-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDown() async throws {
        server.stop()
        try? FileManager.default.removeItem(at: directory)
    }

    static let fastSettings = DownloadSettings(
        connectTimeout: .seconds(5),
        retry: RetryPolicy(maxAttempts: 4, initialDelay: .milliseconds(10), maxDelay: .milliseconds(50)),
        proxy: .direct)

    func path(_ name: String) -> String { directory.appendingPathComponent(name).path }
    func partPath(_ name: String) -> String { path(".\(name).part") }
    func exists(_ path: String) -> Bool { FileManager.default.fileExists(atPath: path) }
    func read(_ path: String) throws -> [UInt8] { Array(try Data(contentsOf: URL(fileURLWithPath: path))) }
    func write(_ bytes: some Sequence<UInt8>, to path: String) throws {
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }
    func directoryContents() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
    }

    func mode(_ path: String) throws -> Int {
        (try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int) ?? -1
    }

    func inode(_ path: String) throws -> Int {
        (try FileManager.default.attributesOfItem(atPath: path)[.systemFileNumber] as? Int) ?? -1
    }

    /// The FetchError `work` throws; fails the test if it throws none or another error.
    func fetchError(
        _ work: () async throws -> Void, file: StaticString = #filePath,
        line: UInt = #line
    ) async -> FetchError? {
        do {
            try await work()
            XCTFail("the download must fail", file: file, line: line)
        } catch let error as FetchError {
            return error
        } catch {
            XCTFail("expected a FetchError, got \(error)", file: file, line: line)
        }
        return nil
    }
}

func randomBytes(_ count: Int) -> [UInt8] {
    let urandom = FileHandle(forReadingAtPath: "/dev/urandom")!
    defer { try? urandom.close() }
    return Array(urandom.readData(ofLength: count))
}

/// Values appended from any thread (progress and sleep callbacks).
final class Recorder<Value: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [Value] = []

    func append(_ value: Value) { lock.withLock { stored.append(value) } }
    var values: [Value] { lock.withLock { stored } }
}
