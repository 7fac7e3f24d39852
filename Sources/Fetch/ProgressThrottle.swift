// libcurl reports progress many times a second; the daemon wants a STATUS
// line at a human pace.

/// Passes progress on at most once per interval, plus the final report.
final class ProgressThrottle: @unchecked Sendable {
    // Only used from the thread running the transfer, then from the task
    // that awaited it: never concurrently.
    private let interval: Duration
    private let report: @Sendable (DownloadProgress) -> Void
    private let clock = ContinuousClock()
    private var attemptStart: ContinuousClock.Instant
    private var attemptStartBytes: Int64 = 0
    private var lastReport: ContinuousClock.Instant?

    init(interval: Duration, report: @escaping @Sendable (DownloadProgress) -> Void) {
        self.interval = interval
        self.report = report
        attemptStart = clock.now
    }

    /// A new attempt starts with `bytes` already in the file; the rate counts
    /// only what this attempt receives.
    func startAttempt(at bytes: Int64) {
        attemptStart = clock.now
        attemptStartBytes = bytes
    }

    func update(bytes: Int64, totalBytes: Int64?, force: Bool = false) {
        let now = clock.now
        if !force, let lastReport, now - lastReport < interval { return }
        lastReport = now
        let elapsed = (now - attemptStart).seconds
        let rate = elapsed > 0 ? Double(bytes - attemptStartBytes) / elapsed : 0
        report(DownloadProgress(bytes: bytes, totalBytes: totalBytes, bytesPerSecond: max(0, rate)))
    }
}
