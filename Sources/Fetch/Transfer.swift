// One HTTP request of a download: receives libcurl's callbacks on the
// transfer thread, checks what the server announces and sends against the
// size limit, hands the body to the ReceivedFile, and remembers the response
// headers the retry logic needs.
import Synchronization

final class Transfer: CurlDelegate, @unchecked Sendable {
    // Mutable state is touched by the transfer thread while curl runs and by
    // the awaiting task after it returned, never both at once; only
    // `cancelled` is shared, hence atomic.
    private let file: ReceivedFile
    /// DownloadRequest.maxBytes.
    private let limit: Int64
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
    /// Why a callback stopped the transfer, if one did.
    private(set) var stopReason: StopReason?

    enum StopReason {
        /// The file would grow beyond the limit (announced or sent).
        case tooLarge
        /// The sizes announced or sent are malformed or impossible.
        case invalidResponse(String)
        /// A body came with a status other than 2xx.
        case notTheFile
        /// Writing the partial file failed (FetchError), or the consumer threw.
        case failed(any Error)
    }
    /// The current response's status and size headers.
    private var status = 0
    private var contentLength: String?
    private var contentRange: String?
    private var announced = AnnouncedSize.Announcement()

    init(into file: ReceivedFile, limit: Int64, progress: ProgressThrottle?) {
        self.file = file
        self.limit = limit
        self.progress = progress
        resumedFrom = file.part.size
        progress?.startAttempt(at: file.part.size)
    }

    /// Makes libcurl abort at its next progress callback (within a second).
    func cancel() {
        cancelled.store(true, ordering: .relaxed)
    }

    var wasCancelled: Bool { cancelled.load(ordering: .relaxed) }

    /// Brings the consumer and digest up to the partial file, then runs the
    /// request; blocks, so it belongs on a dedicated thread.
    func run(_ request: CurlRequest) -> CurlCompletion? {
        do {
            try file.prepareAttempt()
        } catch {
            stopReason = .failed(error)
            return nil
        }
        return CurlEasy().perform(request, delegate: self)
    }

    func curlReceivedBody(_ bytes: UnsafeRawBufferPointer) -> Bool {
        // libcurl passes on the body of a 3xx it does not follow (no Location).
        guard (200...299).contains(status) else { return stop(.notTheFile) }
        let (after, overflow) = file.part.size.addingReportingOverflow(Int64(bytes.count))
        if overflow || after > limit {
            return stop(.tooLarge)
        }
        if let end = announced.end, after > end {
            return stop(.invalidResponse("the body runs past the \(end) bytes announced"))
        }
        do {
            try file.append(bytes)
        } catch {
            return stop(.failed(error))
        }
        received += Int64(bytes.count)
        return true
    }

    func curlReceivedHeader(_ line: String) -> Bool {
        if line.hasPrefix("HTTP/") {
            // A new response (after a redirect or a 100 Continue): forget the previous one's.
            status = line.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 0
            etag = nil
            retryAfter = nil
            contentLength = nil
            contentRange = nil
            announced = AnnouncedSize.Announcement()
            return true
        }
        guard let colon = line.firstIndex(of: ":") else { return true }
        let name = line[..<colon].trimmed.lowercased()
        let value = line[line.index(after: colon)...].trimmed
        switch name {
        case "etag": etag = value.isEmpty ? nil : value
        case "retry-after": retryAfter = Int(value).map { .seconds(max(0, $0)) }
        case "content-length": contentLength = value
        case "content-range": contentRange = value
        default: return true
        }
        return checkAnnouncedSize()
    }

    /// Checks the size headers of a 2xx response as soon as each arrives,
    /// before libcurl takes any of the body.
    private func checkAnnouncedSize() -> Bool {
        guard (200...299).contains(status) else { return true }
        switch AnnouncedSize.check(
            status: status, contentLength: contentLength, contentRange: contentRange,
            resumedFrom: resumedFrom, limit: limit)
        {
        case let .success(announcement):
            announced = announcement
            return true
        case .failure(.tooLarge):
            return stop(.tooLarge)
        case let .failure(.invalid(detail)):
            return stop(.invalidResponse(detail))
        }
    }

    func curlProgress() -> Bool {
        if wasCancelled { return false }
        progress?.update(bytes: file.part.size, totalBytes: announced.total)
        return true
    }

    /// Records why the transfer stops; false, for the callback to return.
    private func stop(_ reason: StopReason) -> Bool {
        stopReason = reason
        return false
    }
}
