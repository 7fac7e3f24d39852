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
    public func runLines(
        lineLimit: Int = 64 * 1024, line: @escaping @Sendable (String) -> Void,
        errorLine: @escaping @Sendable (String) -> Void
    ) async throws(Failure) {
        precondition(lineLimit > 0, "a line holds at least one byte")
        let input = self.input
        try await withDeadline {
            try await self.executeLines(lineLimit: lineLimit, input: { input }, line: line, errorLine: errorLine)
        }
    }

    /// As `runLines`, with the input written once `input` returns (the
    /// process runs meanwhile: see `StartedCommand`), and no deadline.
    func executeLines(
        lineLimit: Int, input: @escaping @Sendable () async -> [UInt8], line: @escaping @Sendable (String) -> Void,
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
            return try await withThrowingTaskGroup(of: String?.self) { group in
                group.addTask {
                    let bytes = await input()
                    // A program that exits without reading all of it is not an error here: its status says how it went.
                    if !bytes.isEmpty { _ = try? await writer.write(bytes) }
                    try? await writer.finish()
                    return nil
                }
                group.addTask {
                    var lines = LineSplitter(limit: lineLimit)
                    for try await chunk in output {
                        chunk.withUnsafeBytes { lines.append($0, to: line) }
                    }
                    lines.finish(to: line)
                    return nil
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
                    return tail.text
                }
                var errorTail = ""
                while let next = try await group.next() {
                    if let next { errorTail = next }
                }
                return errorTail
            }
        }
        try check(result.terminationStatus, output: result.closureResult)
    }
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
