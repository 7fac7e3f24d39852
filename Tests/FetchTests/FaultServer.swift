// Runs Resources/fault_server.py for one test and reads back what it saw.
import Foundation
import XCTest

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

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
    /// Plain HTTP port of the control endpoints (a second listener when
    /// serving HTTPS).
    private let controlPort: Int
    /// PEM of the CA that signed the server certificate, when serving HTTPS.
    let caCertificate: String?
    private let process = Process()

    /// - Parameter https: serve HTTPS with a certificate for 127.0.0.1 signed
    ///   by a fresh private CA (needs the openssl command).
    init(https: Bool = false) throws {
        root = FileManager.default.temporaryDirectory
            .appendingPathComponent("fault-server-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        guard
            let script = Bundle.module.url(
                forResource: "fault_server", withExtension: "py",
                subdirectory: "Resources")
        else {
            throw XCTSkip("fault_server.py is missing from the test bundle")
        }
        let output = Pipe()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script.path, "--root", root.path]
        if https {
            let tls = root.appendingPathComponent("tls")
            try FileManager.default.createDirectory(at: tls, withIntermediateDirectories: true)
            try Self.makeCertificates(in: tls)
            caCertificate = tls.appendingPathComponent("ca.pem").path
            process.arguments! += [
                "--cert", tls.appendingPathComponent("server.pem").path,
                "--key", tls.appendingPathComponent("server.key").path,
            ]
        } else {
            caCertificate = nil
        }
        process.standardOutput = output
        try process.run()
        // The server prints its port (and control port) once it listens.
        var line = Data()
        while !line.contains(UInt8(ascii: "\n")) {
            let chunk = output.fileHandleForReading.availableData
            guard !chunk.isEmpty else { throw ServerError.exitedEarly }
            line += chunk
        }
        let text = String(decoding: line, as: UTF8.self)
        let ports = text.split(whereSeparator: \.isWhitespace).compactMap { Int($0) }
        guard let port = ports.first else { throw ServerError.noPort(text) }
        self.port = port
        controlPort = ports.count > 1 ? ports[1] : port
    }

    enum ServerError: Error {
        case exitedEarly
        case noPort(String)
    }

    func url(_ path: String) -> String {
        "\(caCertificate == nil ? "http" : "https")://127.0.0.1:\(port)\(path)"
    }

    /// ca.pem, server.pem (for IP 127.0.0.1, signed by ca.pem) and server.key.
    private static func makeCertificates(in directory: URL) throws {
        let key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        try Data("subjectAltName=IP:127.0.0.1\n".utf8).write(to: directory.appendingPathComponent("san.ext"))
        for arguments in [
            ["req", "-x509"] + key + [
                "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
                "-subj", "/CN=Fetch test CA", "-addext", "basicConstraints=critical,CA:TRUE",
            ],
            ["req"] + key + ["-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1"],
            [
                "x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
                "-out", "server.pem", "-days", "2", "-extfile", "san.ext",
            ],
        ] {
            let openssl = Process()
            openssl.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            openssl.arguments = ["openssl"] + arguments
            openssl.currentDirectoryURL = directory
            openssl.standardOutput = FileHandle.nullDevice
            openssl.standardError = FileHandle.nullDevice
            try openssl.run()
            openssl.waitUntilExit()
            guard openssl.terminationStatus == 0 else {
                throw XCTSkip("openssl \(arguments.joined(separator: " ")) failed")
            }
        }
    }

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
        let (data, _) = try await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(controlPort)\(path)")!)
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
