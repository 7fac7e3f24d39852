// The file as it arrives. Every byte goes once, in order, to the partial
// file and to the caller's DownloadConsumer; when a checksum is expected,
// the FileHasher follows the partial file on a thread of its own, so the
// checksum needs no pass over the file after the download and costs the
// transfer thread nothing.

/// Unchecked Sendable: used by one thread at a time, the transfer thread of
/// each attempt, then the task that awaited it.
final class ReceivedFile: @unchecked Sendable {
    let part: PartFile
    private let consumer: (any DownloadConsumer)?
    /// Nil when no checksum is expected.
    private let hasher: FileHasher?
    /// How many bytes of the partial file the consumer has seen.
    private var consumed: Int64 = 0

    init(_ part: PartFile, consumer: (any DownloadConsumer)?, hashing: Bool) throws(FetchError) {
        self.part = part
        self.consumer = consumer
        hasher = hashing ? try FileHasher(path: part.path, size: part.size) : nil
    }

    deinit { hasher?.stop() }

    /// Before each attempt: a file that starts from byte 0 restarts the
    /// consumer; bytes it has not seen (a partial file left by an earlier
    /// process) are replayed to it from disk; otherwise the attempt
    /// continues where the last one stopped.
    func prepareAttempt() throws {
        guard let consumer, part.size == 0 || consumed != part.size else { return }
        consumed = 0
        try consumer.restart()
        try part.replay { bytes in
            try consumer.consume(bytes)
            consumed += Int64(bytes.count)
        }
    }

    /// The next body bytes. Throws the file's FetchError or the consumer's error.
    func append(_ bytes: UnsafeRawBufferPointer) throws {
        try part.append(bytes)
        hasher?.advance(to: part.size)
        guard let consumer else { return }
        consumed += Int64(bytes.count)
        try consumer.consume(bytes)
    }

    /// Empties the partial file; the next attempt restarts from byte 0.
    func truncate() throws(FetchError) {
        hasher?.reset()
        try part.truncate()
    }

    /// Hex SHA-256 of the whole file, nil when not hashing; ends the
    /// digest, so call it once per complete file.
    func sha256() throws(FetchError) -> String? {
        try hasher?.sha256()
    }

    /// The file has arrived whole and checked: DownloadConsumer.finish().
    func finishConsumer() throws {
        try consumer?.finish()
    }
}
