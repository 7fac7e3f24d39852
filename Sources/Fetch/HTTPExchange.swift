// One API call as libcurl runs it: receives the callbacks on the call's
// thread and keeps the answer's body, up to a limit, and its Location.
import Synchronization

final class HTTPExchange: CurlDelegate, @unchecked Sendable {
    // Mutable state is touched by the call's thread while curl runs and by
    // the awaiting task after it returned, never both at once; only
    // `cancelled` is shared, hence atomic.
    private let limit: Int
    private let cancelled = Atomic<Bool>(false)
    private(set) var body: [UInt8] = []
    private(set) var location: String?
    /// The body grew past the limit and the call was stopped.
    private(set) var exceededLimit = false

    init(limit: Int) {
        self.limit = limit
    }

    /// Blocks until the call ends, so it belongs on a dedicated thread.
    func run(_ request: CurlRequest) -> CurlCompletion {
        CurlEasy().perform(request, delegate: self)
    }

    /// Makes libcurl abort at its next progress callback (within a second).
    func cancel() {
        cancelled.store(true, ordering: .relaxed)
    }

    var wasCancelled: Bool { cancelled.load(ordering: .relaxed) }

    func curlReceivedBody(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard body.count + bytes.count <= limit else {
            exceededLimit = true
            return false
        }
        body.append(contentsOf: bytes)
        return true
    }

    func curlReceivedHeader(_ line: String) -> Bool {
        if line.hasPrefix("HTTP/") {
            // A new response (after a 100 Continue): only the last one counts.
            body = []
            location = nil
        } else if let colon = line.firstIndex(of: ":"), line[..<colon].trimmed.lowercased() == "location" {
            location = line[line.index(after: colon)...].trimmed
        }
        return true
    }

    func curlProgress() -> Bool { !wasCancelled }
}
