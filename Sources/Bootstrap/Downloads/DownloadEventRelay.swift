import Fetch

/// Turns what a download's executor says (in this process or, as JSON
/// lines, from the worker) into the component's events, the same whichever
/// process ran it: one journal entry when it starts, finishes or fails,
/// progress for STATUS and the status file's bars ("downloading
/// code-server 4.96.4: 41% of 120 MB"), and the waits between attempts
/// ("waiting for coder.example.com (coder agent), attempt 3, next in 8 s").
struct DownloadEventRelay: Sendable {
    /// Names the download for people ("code-server 4.96.4").
    let what: String
    /// The URL as shown (without its query).
    let url: String
    let host: String
    let events: ComponentEvents
    private let clock = ContinuousClock()
    private let began: ContinuousClock.Instant

    init(what: String, url: String, events: ComponentEvents) {
        self.what = what
        self.url = shownURL(url)
        host = DownloadService.host(of: url)
        self.events = events
        began = clock.now
    }

    func relay(_ update: DownloadUpdate) {
        switch update {
        case .started:
            events.download(.started(what: what, url: url))
            events.report("downloading \(what) from \(host)")
        case let .progress(bytes, totalBytes, bytesPerSecond):
            events.progress(ComponentProgress(what: what, bytes: bytes, totalBytes: totalBytes, bytesPerSecond: bytesPerSecond))
        case let .retryWait(attempt, delay):
            events.report("waiting for \(host) (\(what)), attempt \(attempt), next in \(Int(delay.components.seconds) + 1) s")
        }
    }

    func finished(_ result: DownloadResult) {
        events.download(
            .finished(
                what: what, url: url, bytes: result.bytesTransferred,
                notModified: result.outcome == .notModified, duration: began.duration(to: clock.now)))
    }

    func failed(_ why: String) {
        events.download(.failed(what: what, url: url, error: why))
    }
}
