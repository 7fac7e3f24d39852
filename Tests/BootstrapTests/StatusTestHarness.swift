import BootstrapTestKit
import Foundation
import Glibc
import WorkspaceSpec
import XCTest

@testable import Bootstrap

// What the `status` tests share: a status file written the way the daemon
// writes it, the built binary run on a pseudo-terminal or a pipe, and a
// watch that tells when that binary has read the file.

/// A status file in a fresh folder, owned by a "daemon" that is this test
/// process (the command checks the writer's pid with kill(pid, 0)).
final class StatusFileFixture {
    let directory: String
    var path: String { directory + "/status.json" }
    let startedAt = Date(timeIntervalSinceNow: -62)

    init() throws {
        directory = NSTemporaryDirectory() + "status-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: directory) }

    /// A status as the daemon publishes it: the phase follows from the components.
    func status(_ components: [ComponentStatus], pid: Int32 = getpid(), updatedAfter seconds: TimeInterval = 62) -> WorkspaceStatus {
        var status = WorkspaceStatus(
            phase: WorkspaceStatus.phase(of: components), summary: "", components: components, daemonPID: pid,
            daemonVersion: "0.1.0", startedAt: startedAt, updatedAt: startedAt.addingTimeInterval(seconds),
            host: "Debian GNU/Linux 12 (bookworm)")
        status.summary = StatusSummary.line(for: status)
        return status
    }

    /// Replaces the file atomically (write, then rename), as the daemon does.
    func write(_ status: WorkspaceStatus) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        let temporary = directory + "/.status.json.tmp"
        try encoder.encode(status).write(to: URL(fileURLWithPath: temporary))
        XCTAssertEqual(rename(temporary, path), 0)
    }
}

/// One component, with what the daemon fills in while it works.
func component(
    _ name: ComponentName, _ state: ComponentState, required: Bool = true, detail: String? = nil,
    lastError: String? = nil, download: (bytes: Int64, total: Int64?)? = nil, inStateFor seconds: TimeInterval = 12
) -> ComponentStatus {
    var component = ComponentStatus(name: name, state: state, required: required)
    component.detail = detail
    component.lastError = lastError
    component.since = Date(timeIntervalSinceNow: -seconds)
    if let download {
        component.progress = ComponentProgress(what: "code-server 4.96.4", bytes: download.bytes, totalBytes: download.total, bytesPerSecond: 3_100_000)
    }
    return component
}

let daemonBinary = BuiltDaemon.url

/// Everything read from a file descriptor until EOF, collected by a thread;
/// tests wait on what has arrived, never on time.
final class OutputCollector: @unchecked Sendable {
    private let condition = NSCondition()
    private var bytes: [UInt8] = []
    private var ended = false

    /// Reads `fd` (and closes it) until EOF, or EIO from a pseudo-terminal
    /// whose other side every process has closed.
    init(reading fd: Int32) {
        Thread.detachNewThread { [self] in
            var buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                let count = read(fd, &buffer, buffer.count)
                if count < 0, errno == EINTR { continue }
                condition.lock()
                if count > 0 { bytes += buffer[0..<count] } else { ended = true }
                condition.broadcast()
                condition.unlock()
                if count <= 0 { break }
            }
            close(fd)
        }
    }

    var text: String {
        condition.lock()
        defer { condition.unlock() }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Waits until the output so far satisfies `predicate` (true), or the
    /// output ended or `timeout` passed without it (false).
    @discardableResult
    func wait(timeout: TimeInterval = 60, until predicate: (String) -> Bool) -> Bool {
        let deadline = Date(timeIntervalSinceNow: timeout)
        condition.lock()
        defer { condition.unlock() }
        while true {
            if predicate(String(decoding: bytes, as: UTF8.self)) { return true }
            if ended || !condition.wait(until: deadline) { return predicate(String(decoding: bytes, as: UTF8.self)) }
        }
    }

    func waitForEnd(timeout: TimeInterval = 60) -> Bool {
        let deadline = Date(timeIntervalSinceNow: timeout)
        condition.lock()
        defer { condition.unlock() }
        while !ended { if !condition.wait(until: deadline) { return ended } }
        return true
    }
}

/// `coder-vm-bootstrap ARGS`, its standard output on a pseudo-terminal of
/// the given size (or a pipe), standard error on a pipe of its own.
final class StatusCommandRun {
    let process = Process()
    let output: OutputCollector
    let errors: OutputCollector
    /// The controller side of the pseudo-terminal, if there is one.
    private var controller: Int32?

    init(_ arguments: [String], terminal: (columns: UInt16, rows: UInt16)? = nil, environment: [String: String] = [:]) throws {
        process.executableURL = daemonBinary
        process.arguments = arguments
        var base = ProcessInfo.processInfo.environment
        base["NO_COLOR"] = nil
        base["TERM"] = "xterm"
        process.environment = base.merging(environment) { $1 }
        process.standardInput = FileHandle.nullDevice
        let outputEnd: Int32
        if let terminal {
            let pty = try PseudoTerminal(columns: terminal.columns, rows: terminal.rows)
            outputEnd = pty.terminal
            controller = pty.controller
            output = OutputCollector(reading: pty.controller)
        } else {
            var ends: [Int32] = [0, 0]
            XCTAssertEqual(pipe(&ends), 0)
            outputEnd = ends[1]
            output = OutputCollector(reading: ends[0])
        }
        var errorEnds: [Int32] = [0, 0]
        XCTAssertEqual(pipe(&errorEnds), 0)
        errors = OutputCollector(reading: errorEnds[0])
        process.standardOutput = FileHandle(fileDescriptor: outputEnd, closeOnDealloc: false)
        process.standardError = FileHandle(fileDescriptor: errorEnds[1], closeOnDealloc: false)
        defer {
            close(outputEnd)
            close(errorEnds[1])
        }
        try process.run()
    }

    /// The terminal is resized (as when a person resizes the window).
    func resize(columns: UInt16, rows: UInt16) {
        guard let controller else { return XCTFail("not on a terminal") }
        var size = winsize(ws_row: rows, ws_col: columns, ws_xpixel: 0, ws_ypixel: 0)
        XCTAssertEqual(ioctl(controller, UInt(TIOCSWINSZ), &size), 0)
    }

    /// The exit status once the command has exited (and both its outputs
    /// ended); nil if it is still running after `timeout` (then it is killed).
    func exitStatus(timeout: TimeInterval = 60) -> Int32? {
        guard output.waitForEnd(timeout: timeout), errors.waitForEnd(timeout: timeout) else {
            process.terminate()
            return nil
        }
        process.waitUntilExit()
        return process.terminationStatus
    }

    deinit { if process.isRunning { process.terminate() } }
}

/// A pseudo-terminal pair from posix_openpt(3): the command writes to the
/// terminal side as it would to a person's terminal; the test reads the
/// controller side. Raw mode, so the bytes read are the bytes written.
struct PseudoTerminal {
    let controller: Int32
    let terminal: Int32

    init(columns: UInt16, rows: UInt16) throws {
        controller = XSI.posixOpenPT(O_RDWR | O_NOCTTY | O_CLOEXEC)
        guard controller >= 0, XSI.grantPT(controller) == 0, XSI.unlockPT(controller) == 0 else { throw POSIXError(.ENODEV) }
        var name = [CChar](repeating: 0, count: 128)
        guard XSI.ptsnameR(controller, &name, name.count) == 0 else { throw POSIXError(.ENODEV) }
        terminal = open(String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self), O_RDWR | O_NOCTTY | O_CLOEXEC)
        guard terminal >= 0 else { throw POSIXError(.ENODEV) }
        var mode = termios()
        tcgetattr(terminal, &mode)
        cfmakeraw(&mode)
        tcsetattr(terminal, TCSANOW, &mode)
        var size = winsize(ws_row: rows, ws_col: columns, ws_xpixel: 0, ws_ypixel: 0)
        guard ioctl(terminal, UInt(TIOCSWINSZ), &size) == 0 else { throw POSIXError(.ENOTTY) }
    }

    /// posix_openpt(3), grantpt(3), unlockpt(3), ptsname_r(3): the Glibc
    /// module does not declare them (they need _XOPEN_SOURCE), so they are
    /// looked up in the C library already loaded.
    private enum XSI {
        static let posixOpenPT = function("posix_openpt", as: (@convention(c) (Int32) -> Int32).self)
        static let grantPT = function("grantpt", as: (@convention(c) (Int32) -> Int32).self)
        static let unlockPT = function("unlockpt", as: (@convention(c) (Int32) -> Int32).self)
        static let ptsnameR = function("ptsname_r", as: (@convention(c) (Int32, UnsafeMutablePointer<CChar>, Int) -> Int32).self)

        private static func function<F>(_ name: String, as type: F.Type) -> F {
            guard let symbol = dlsym(dlopen(nil, RTLD_NOW), name) else { fatalError("\(name) is not in the C library") }
            return unsafeBitCast(symbol, to: type)
        }
    }
}

/// inotify(7) on the status file's folder: counts the times a process
/// opened the file for reading and closed it again (IN_CLOSE_NOWRITE), so a
/// test knows the command has read what it wrote, without guessing a time.
final class StatusFileReads {
    private let fd: Int32
    private let name: String

    init(_ fixture: StatusFileFixture) {
        fd = inotify_init1(Int32(IN_CLOEXEC))
        name = "status.json"
        XCTAssertGreaterThanOrEqual(fd, 0)
        XCTAssertGreaterThanOrEqual(inotify_add_watch(fd, fixture.directory, UInt32(IN_CLOSE_NOWRITE)), 0)
    }

    deinit { close(fd) }

    /// Waits for `count` more completed reads of the file; false on timeout.
    func wait(for count: Int, timeout: TimeInterval = 60) -> Bool {
        let deadline = Date(timeIntervalSinceNow: timeout)
        var seen = 0
        var buffer = [UInt8](repeating: 0, count: 4096)
        while seen < count {
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let left = Int32(max(0, deadline.timeIntervalSinceNow) * 1000)
            guard poll(&poller, 1, left) > 0 else { return false }
            let length = read(fd, &buffer, buffer.count)
            guard length > 0 else { return false }
            var offset = 0
            // struct inotify_event: wd, mask, cookie, len, then len bytes of NUL-padded name.
            while offset + 16 <= length {
                let nameLength = Int(buffer[offset + 12]) | Int(buffer[offset + 13]) << 8 | Int(buffer[offset + 14]) << 16 | Int(buffer[offset + 15]) << 24
                let nameBytes = buffer[(offset + 16)..<(offset + 16 + nameLength)].prefix { $0 != 0 }
                if String(decoding: nameBytes, as: UTF8.self) == name { seen += 1 }
                offset += 16 + nameLength
            }
        }
        return true
    }
}

extension String {
    /// The text a person would see, without SGR colour sequences.
    var withoutColour: String { replacingOccurrences(of: "\u{1B}\\[[0-9;]*m", with: "", options: .regularExpression) }
}
