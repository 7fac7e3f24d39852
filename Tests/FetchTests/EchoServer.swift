// Runs Resources/echo_server.py for one test and reads back the calls it got.
import Foundation
import XCTest

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

final class EchoServer {
    /// One call as the server recorded it.
    struct Call: Decodable {
        let method: String
        let path: String
        let headers: [String: String]
        /// The body as Latin-1 text (one character per byte).
        let body: String
    }

    let port: Int
    private let process = Process()

    init() throws {
        guard let script = Bundle.module.url(forResource: "echo_server", withExtension: "py", subdirectory: "Resources") else {
            throw XCTSkip("echo_server.py is missing from the test bundle")
        }
        let output = Pipe()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script.path]
        process.standardOutput = output
        try process.run()
        var line = Data()
        while !line.contains(UInt8(ascii: "\n")) {
            let chunk = output.fileHandleForReading.availableData
            guard !chunk.isEmpty else { throw FaultServer.ServerError.exitedEarly }
            line += chunk
        }
        let text = String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard let port = Int(text) else { throw FaultServer.ServerError.noPort(text) }
        self.port = port
    }

    func url(_ pathAndQuery: String) -> String { "http://127.0.0.1:\(port)\(pathAndQuery)" }

    /// Every call so far, in arrival order.
    func calls() async throws -> [Call] {
        let (data, _) = try await URLSession.shared.data(from: URL(string: url("/_control/log"))!)
        return try JSONDecoder().decode([Call].self, from: data)
    }

    func stop() {
        if process.isRunning {
            // SIGKILL: the server inherits the test thread's blocked SIGTERM.
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }
}
