import Foundation
import XCTest

#if canImport(Glibc)
import Glibc
#endif

/// A private directory under $TMPDIR, removed with its contents on deinit.
final class TemporaryDirectory {
    let path: String

    init() throws {
        var template = Array((NSTemporaryDirectory() + "/systemd-support-XXXXXX").utf8CString)
        guard let made = mkdtemp(&template) else { throw POSIXError(.init(rawValue: errno)!) }
        path = String(cString: made)
    }

    deinit {
        try? FileManager.default.removeItem(atPath: path)
    }
}

/// An AF_UNIX datagram socket bound at a path: stands in for systemd's
/// notify socket and journald's native socket, both of which are plain
/// datagram sockets.
final class DatagramSocket {
    let fd: Int32
    let path: String

    init(bindingTo path: String) throws {
        self.path = path
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.init(rawValue: errno)!) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        precondition(bytes.count < MemoryLayout.size(ofValue: address.sun_path))
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
        }
        let r = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard r == 0 else {
            let e = errno
            close(fd)
            throw POSIXError(.init(rawValue: e)!)
        }
    }

    deinit {
        close(fd)
        unlink(path)
    }

    /// The next queued datagram, or nil if none is queued right now. Senders
    /// here (sd_notify, sd_journal_sendv) have finished `sendmsg` before we
    /// look, so a datagram that was sent is already queued: no waiting.
    func receiveNow() throws -> [UInt8]? {
        var buffer = [UInt8](repeating: 0, count: 256 * 1024)
        let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
        if n < 0 {
            if errno == EAGAIN || errno == EWOULDBLOCK { return nil }
            throw POSIXError(.init(rawValue: errno)!)
        }
        return Array(buffer[..<n])
    }

    /// Every queued datagram.
    func receiveAllNow() throws -> [[UInt8]] {
        var all: [[UInt8]] = []
        while let datagram = try receiveNow() { all.append(datagram) }
        return all
    }
}

/// Sets environment variables for the duration of a test and puts the old
/// values back. XCTest on Linux runs tests serially in one process, so the
/// process environment is ours while a test runs.
final class EnvironmentOverride {
    private var saved: [String: String?] = [:]

    func set(_ name: String, _ value: String?) {
        if saved[name] == nil {
            saved[name] = .some(getenv(name).map { String(cString: $0) })
        }
        if let value { setenv(name, value, 1) } else { unsetenv(name) }
    }

    func restore() {
        for (name, value) in saved {
            if let value = value { setenv(name, value, 1) } else { unsetenv(name) }
        }
        saved = [:]
    }
}

/// Parses journald's native protocol: `NAME=value\n`, or for values with
/// newlines `NAME\n<uint64 LE length><bytes>\n`.
func parseJournalDatagram(_ bytes: [UInt8]) throws -> [(name: String, value: [UInt8])] {
    struct Malformed: Error { let offset: Int }
    var fields: [(String, [UInt8])] = []
    var i = 0
    while i < bytes.count {
        var j = i
        while j < bytes.count, bytes[j] != UInt8(ascii: "="), bytes[j] != UInt8(ascii: "\n") { j += 1 }
        guard j < bytes.count else { throw Malformed(offset: i) }
        let name = String(decoding: bytes[i..<j], as: UTF8.self)
        if bytes[j] == UInt8(ascii: "=") {
            var k = j + 1
            while k < bytes.count, bytes[k] != UInt8(ascii: "\n") { k += 1 }
            guard k < bytes.count else { throw Malformed(offset: j) }
            fields.append((name, Array(bytes[(j + 1)..<k])))
            i = k + 1
        } else {
            let start = j + 1
            guard start + 8 <= bytes.count else { throw Malformed(offset: j) }
            var length: UInt64 = 0
            for b in 0..<8 { length |= UInt64(bytes[start + b]) << (8 * UInt64(b)) }
            let valueStart = start + 8
            let valueEnd = valueStart + Int(length)
            guard valueEnd < bytes.count, bytes[valueEnd] == UInt8(ascii: "\n") else { throw Malformed(offset: start) }
            fields.append((name, Array(bytes[valueStart..<valueEnd])))
            i = valueEnd + 1
        }
    }
    return fields
}

extension Array where Element == UInt8 {
    func contains(subsequence needle: [UInt8]) -> Bool {
        guard !needle.isEmpty, needle.count <= count else { return needle.isEmpty }
        for start in 0...(count - needle.count) where self[start..<(start + needle.count)].elementsEqual(needle) {
            return true
        }
        return false
    }
}

/// Result of a finished child process.
struct ChildResult {
    var status: Int32
    var stdout: String
    var stderr: String
}

/// Runs a process to completion. Output goes to files, not pipes, so a
/// chatty child can never block on a full pipe while we wait for it.
func runProcess(_ executable: String, _ arguments: [String], environment: [String: String]? = nil) throws -> ChildResult {
    let dir = try TemporaryDirectory()
    let outPath = dir.path + "/stdout", errPath = dir.path + "/stderr"
    FileManager.default.createFile(atPath: outPath, contents: nil)
    FileManager.default.createFile(atPath: errPath, contents: nil)
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    if let environment { process.environment = environment }
    process.standardInput = FileHandle.nullDevice
    process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: outPath))
    process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
    try process.run()
    process.waitUntilExit()
    return ChildResult(
        status: process.terminationStatus,
        stdout: (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? "",
        stderr: (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? "")
}
