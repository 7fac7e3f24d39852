// The file as it arrives. Every byte goes once, in order, to the partial
// file, the running SHA-256 and the caller's DownloadConsumer, so the
// checksum needs no second pass over the file and a consumer sees exactly
// the file's bytes.

/// Unchecked Sendable: used by one thread at a time, the transfer thread of
/// each attempt, then the task that awaited it.
final class ReceivedFile: @unchecked Sendable {
    let part: PartFile
    private let consumer: (any DownloadConsumer)?
    private var digest = Digest(.sha256)
    /// How many bytes of the partial file the digest and the consumer have seen.
    private var seen: Int64 = 0

    init(_ part: PartFile, consumer: (any DownloadConsumer)?) {
        self.part = part
        self.consumer = consumer
    }

    /// Before each attempt: a file that starts from byte 0 restarts the
    /// digest and the consumer; bytes they have not seen (a partial file left
    /// by an earlier process) are replayed to them from disk; otherwise the
    /// attempt continues where the last one stopped.
    func prepareAttempt() throws {
        guard part.size == 0 || seen != part.size else { return }
        digest = Digest(.sha256)
        seen = 0
        try consumer?.restart()
        try part.replay { bytes in
            digest.update(bytes)
            try consumer?.consume(bytes)
            seen += Int64(bytes.count)
        }
    }

    /// The next body bytes. Throws the file's FetchError or the consumer's error.
    func append(_ bytes: UnsafeRawBufferPointer) throws {
        try part.append(bytes)
        digest.update(bytes)
        seen += Int64(bytes.count)
        try consumer?.consume(bytes)
    }

    /// Empties the partial file; the next attempt restarts from byte 0.
    func truncate() throws(FetchError) {
        try part.truncate()
    }

    /// Hex SHA-256 of the whole file; ends the digest, so call it once per
    /// complete file.
    func sha256() -> String {
        digest.finalizeHex()
    }

    /// The file has arrived whole and checked: DownloadConsumer.finish().
    func finishConsumer() throws {
        try consumer?.finish()
    }
}
