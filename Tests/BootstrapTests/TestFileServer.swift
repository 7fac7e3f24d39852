// Runs the Fetch tests' fault-injecting HTTP server (Tests/FetchTests/
// Resources/fault_server.py: Range, ETag, slow bodies, failures on request)
// for the fetch worker's scenarios.
import Foundation

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

final class TestFileServer {
    /// One request as the server recorded it.
    struct Request: Decodable {
        let path: String
        let range: String?
        let status: Int
    }

    let root: URL
    let port: Int
    private let process = Process()

    init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("worker-files-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        let script = repositoryRoot.appendingPathComponent("Tests/FetchTests/Resources/fault_server.py")
        let output = Pipe()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script.path, "--root", root.path]
        process.standardOutput = output
        try process.run()
        // It prints its port once it listens.
        var line = Data()
        while !line.contains(UInt8(ascii: "\n")) {
            let chunk = output.fileHandleForReading.availableData
            guard !chunk.isEmpty else { throw CocoaError(.fileReadUnknown) }
            line += chunk
        }
        guard let port = Int(String(decoding: line, as: UTF8.self).split(whereSeparator: \.isWhitespace).first ?? "") else {
            throw CocoaError(.fileReadCorruptFile)
        }
        self.port = port
    }

    func url(_ path: String) -> String { "http://127.0.0.1:\(port)\(path)" }

    /// Puts a file at /files/NAME.
    func serve(_ name: String, _ content: [UInt8]) throws {
        try Data(content).write(to: root.appendingPathComponent(name))
    }

    /// Every /files request so far, in arrival order.
    func requests() async throws -> [Request] {
        let (data, _) = try await URLSession.shared.data(from: URL(string: url("/_control/log"))!)
        return try JSONDecoder().decode([Request].self, from: data)
    }

    func stop() {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)  // it inherits the test thread's blocked SIGTERM
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: root)
    }
}
