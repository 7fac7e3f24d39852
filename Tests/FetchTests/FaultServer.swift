// Runs Resources/fault_server.py for one test and reads back what it saw.
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import XCTest

final class FaultServer {
    /// One request as the server recorded it.
    struct Request: Decodable {
        let method: String
        let path: String
        let range: String?
        let ifNoneMatch: String?
        let ifRange: String?
        let status: Int
        let bodyBytes: Int
    }

    /// Directory the server serves /files/NAME from.
    let root: URL
    let port: Int
    private let process = Process()

    init() throws {
        root = FileManager.default.temporaryDirectory
            .appendingPathComponent("fault-server-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        guard let script = Bundle.module.url(forResource: "fault_server", withExtension: "py",
                                             subdirectory: "Resources") else {
            throw XCTSkip("fault_server.py is missing from the test bundle")
        }
        let output = Pipe()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script.path, "--root", root.path]
        process.standardOutput = output
        try process.run()
        // The server prints its port once it listens.
        var line = Data()
        while !line.contains(UInt8(ascii: "\n")) {
            let chunk = output.fileHandleForReading.availableData
            guard !chunk.isEmpty else { throw ServerError.exitedEarly }
            line += chunk
        }
        guard let port = Int(String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw ServerError.noPort(String(decoding: line, as: UTF8.self))
        }
        self.port = port
    }

    enum ServerError: Error {
        case exitedEarly
        case noPort(String)
    }

    func url(_ path: String) -> String { "http://127.0.0.1:\(port)\(path)" }

    /// Puts a file at /files/NAME.
    func serve(_ name: String, _ content: [UInt8]) throws {
        try Data(content).write(to: root.appendingPathComponent(name))
    }

    /// Every /files and /redirect request so far, in arrival order.
    func requests() async throws -> [Request] {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode([Request].self, from: try await get("/_control/log"))
    }

    /// The most requests the server was serving at one time.
    func maxInFlight() async throws -> Int {
        let stats = try JSONDecoder().decode([String: Int].self, from: try await get("/_control/stats"))
        return stats["max_in_flight"] ?? 0
    }

    private func get(_ path: String) async throws -> Data {
        let (data, _) = try await URLSession.shared.data(from: URL(string: url(path))!)
        return data
    }

    func stop() {
        if process.isRunning {
            // SIGKILL: the server inherits the test thread's blocked SIGTERM.
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: root)
    }
}
