import Subprocess

extension HostCommand {
    /// Runs to completion like `run()` (the same deadline, teardown of its
    /// process group, clean environment and user), but hands over what it
    /// prints line by line while it runs instead of keeping it: each line of
    /// standard output to `line`, each line of standard error to
    /// `errorLine`, in order, without the line break. A line longer than
    /// `lineLimit` bytes is cut there (the rest of it is dropped). Throws
    /// `Failure` as `run()` does, with the last `outputLimit` bytes of
    /// standard error as its output.
    ///
    /// - Parameter inputs: written to standard input as they come, instead
    ///   of `input`; it is closed when the stream ends or the program's
    ///   output does (a program that exits without waiting for the rest).
    public func runLines(
        lineLimit: Int = 64 * 1024, inputs: AsyncStream<[UInt8]>? = nil, line: @escaping @Sendable (String) -> Void,
        errorLine: @escaping @Sendable (String) -> Void
    ) async throws(Failure) {
        precondition(lineLimit > 0, "a line holds at least one byte")
        let inputs = inputs ?? .once(input)
        try await withDeadline {
            try await self.executeLines(lineLimit: lineLimit, inputs: inputs, line: line, errorLine: errorLine)
        }
    }

    /// As `runLines`, without the deadline (see `StartedCommand`).
    func executeLines(
        lineLimit: Int, inputs: AsyncStream<[UInt8]>, line: @escaping @Sendable (String) -> Void,
        errorLine: @escaping @Sendable (String) -> Void
    ) async throws {
        let launch = self.launch()
        let limit = outputLimit
        let result = try await Subprocess.run(
            launch.executable, arguments: launch.arguments, environment: launch.environment,
            workingDirectory: launch.workingDirectory, platformOptions: launch.options,
            input: .inputWriter, output: .sequence, error: .sequence
        ) { execution in
            let (output, errors, writer) = (execution.standardOutput, execution.standardError, execution.standardInputWriter)
            return try await withThrowingTaskGroup(of: Stream.self) { group in
                group.addTask {
                    // A program that exits without reading all of it is not an error here: its status says how it went.
                    for await bytes in inputs where !bytes.isEmpty {
                        guard (try? await writer.write(bytes)) != nil else { break }
                    }
                    try? await writer.finish()
                    return .input
                }
                group.addTask {
                    var lines = LineSplitter(limit: lineLimit)
                    for try await chunk in output {
                        chunk.withUnsafeBytes { lines.append($0, to: line) }
                    }
                    lines.finish(to: line)
                    return .output
                }
                group.addTask {
                    var lines = LineSplitter(limit: lineLimit)
                    var tail = OutputTail(limit: limit)
                    for try await chunk in errors {
                        chunk.withUnsafeBytes { bytes in
                            tail.append(bytes)
                            lines.append(bytes, to: errorLine)
                        }
                    }
                    lines.finish(to: errorLine)
                    return .errors(tail: tail.text)
                }
                var errorTail = ""
                var outputsOpen = 2
                while let next = try await group.next() {
                    switch next {
                    case .input: continue
                    case .output: outputsOpen -= 1
                    case let .errors(tail):
                        errorTail = tail
                        outputsOpen -= 1
                    }
                    // Both outputs closed: the program is gone, so is the need for more input.
                    if outputsOpen == 0 { group.cancelAll() }
                }
                return errorTail
            }
        }
        try check(result.terminationStatus, output: result.closureResult)
    }
}

extension AsyncStream<[UInt8]> {
    /// `bytes`, then the end: a command's whole input at once.
    static func once(_ bytes: [UInt8]) -> Self {
        AsyncStream { continuation in
            continuation.yield(bytes)
            continuation.finish()
        }
    }
}

/// Which of a running command's streams ended.
private enum Stream: Sendable {
    case input
    case output
    case errors(tail: String)
}

/// Cuts a byte stream into lines at "\n", each at most `limit` bytes.
struct LineSplitter {
    let limit: Int
    /// The current line so far; past `limit` bytes the rest of it is dropped.
    private var pending: [UInt8] = []

    init(limit: Int) { self.limit = limit }

    mutating func append(_ bytes: UnsafeRawBufferPointer, to deliver: (String) -> Void) {
        for byte in bytes {
            if byte == UInt8(ascii: "\n") {
                deliver(String(decoding: pending, as: UTF8.self))
                pending.removeAll(keepingCapacity: true)
            } else if pending.count < limit {
                pending.append(byte)
            }
        }
    }

    /// The last line, when the stream did not end with a line break.
    mutating func finish(to deliver: (String) -> Void) {
        if !pending.isEmpty { deliver(String(decoding: pending, as: UTF8.self)) }
        pending.removeAll()
    }
}
