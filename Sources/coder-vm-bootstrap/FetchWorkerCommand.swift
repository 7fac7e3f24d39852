import ArgumentParser
import Bootstrap
import Glibc

/// One download or API call for the daemon, in a process of its own (see
/// `FetchWorker`): the request is a JSON line on standard input, never an
/// argument (its headers may carry a token); messages go out as JSON lines
/// on standard output. Not for people: hidden from --help.
struct FetchWorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fetch-worker",
        abstract: "Run one download or API call the daemon hands over on standard input (started by the daemon).",
        shouldDisplay: false
    )

    func run() async throws {
        // Before the request: a worker the daemon started ahead of its work
        // loads libcurl while it waits. A failure is told with the request.
        FetchWorker.loadLibcurl()
        // End-of-file at once: a spare worker the daemon did not need.
        guard let request = readLine(strippingNewline: true) else { return }
        // Read where it blocks: the worker has nothing else to do while a check waits for `go`.
        let status = await FetchWorker.serve(request, nextLine: { readLine(strippingNewline: true) }, send: Self.writeLine)
        if status != 0 { throw ExitCode(status) }
    }

    /// Writes `text` and a line break to standard output with write(2), at
    /// once (no stdio buffer: the daemon reads each line as it comes).
    static func writeLine(_ text: String) {
        var bytes = Array(text.utf8)
        bytes.append(UInt8(ascii: "\n"))
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { write(1, $0.baseAddress, $0.count) }
            if written < 0 && errno == EINTR { continue }
            guard written > 0 else { return }  // the daemon is gone
            offset += written
        }
    }
}
