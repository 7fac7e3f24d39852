// One HTTP request of a download: receives libcurl's callbacks on the
// transfer thread, writes the body into the partial file, and remembers the
// response headers the retry logic needs.
import Synchronization

final class Transfer: CurlDelegate, @unchecked Sendable {
    // Mutable state is touched by the transfer thread while curl runs and by
    // the awaiting task after it returned, never both at once; only
    // `cancelled` is shared, hence atomic.
    private let part: PartFile
    private let progress: ProgressThrottle?
    private let cancelled = Atomic<Bool>(false)
    /// Where the file stood when this request started (the Range offset).
    let resumedFrom: Int64
    /// Body bytes received by this request.
    private(set) var received: Int64 = 0
    /// ETag of the last response in the redirect chain.
    private(set) var etag: String?
    /// Retry-After of the last response, in seconds.
    private(set) var retryAfter: Duration?
    /// Content-Length of the last response, to know the total.
    private(set) var contentLength: Int64?

    init(writingTo part: PartFile, progress: ProgressThrottle?) {
        self.part = part
        self.progress = progress
        resumedFrom = part.size
        progress?.startAttempt(at: part.size)
    }

    /// Makes libcurl abort at its next progress callback (within a second).
    func cancel() {
        cancelled.store(true, ordering: .relaxed)
    }

    var wasCancelled: Bool { cancelled.load(ordering: .relaxed) }

    func curlReceivedBody(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard part.append(bytes) else { return false }
        received += Int64(bytes.count)
        return true
    }

    func curlReceivedHeader(_ line: String) {
        if line.hasPrefix("HTTP/") {
            // A new response (after a redirect or a 100 Continue): forget the previous one's.
            etag = nil
            retryAfter = nil
            contentLength = nil
            return
        }
        guard let colon = line.firstIndex(of: ":") else { return }
        let name = line[..<colon].trimmed.lowercased()
        let value = line[line.index(after: colon)...].trimmed
        switch name {
        case "etag": etag = value.isEmpty ? nil : value
        case "retry-after": retryAfter = Int(value).map { .seconds(max(0, $0)) }
        case "content-length": contentLength = Int64(value)
        default: break
        }
    }

    func curlProgress(downloaded: Int64, expected: Int64) -> Bool {
        if wasCancelled { return false }
        let total = expected > 0 ? resumedFrom + expected : nil
        progress?.update(bytes: resumedFrom + downloaded, totalBytes: total)
        return true
    }
}
