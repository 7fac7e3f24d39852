import Fetch

/// How every download of a workspace reaches the network, from the spec:
/// the extra CA bundle, the proxy, and how often a server fault is retried
/// within one download (past that the supervisor's own backoff takes over).
public struct DownloadNetwork: Codable, Sendable, Equatable {
    /// PEM file of the spec's CA certificates, trusted beside the system store.
    public var extraCABundle: String?
    public var proxy: Proxy
    public var maxAttempts: Int
    public var initialDelay: Duration
    public var maxDelay: Duration

    public init(extraCABundle: String?, proxy: Proxy, maxAttempts: Int = 4, initialDelay: Duration = .seconds(1),
                maxDelay: Duration = .seconds(8)) {
        self.extraCABundle = extraCABundle
        self.proxy = proxy
        self.maxAttempts = maxAttempts
        self.initialDelay = initialDelay
        self.maxDelay = maxDelay
    }

    /// Fetch's settings for these; `wait` does the waits between attempts.
    func settings(wait: @escaping @Sendable (Duration) async throws -> Void) -> DownloadSettings {
        DownloadSettings(retry: RetryPolicy(maxAttempts: maxAttempts, initialDelay: initialDelay, maxDelay: maxDelay, sleep: wait),
                         extraCABundle: extraCABundle, proxy: proxy)
    }

    /// Longer than any download can take while each attempt keeps to its
    /// own deadlines (connect, attempt, waits), plus time for the check of
    /// the body: past it, a download worker is stuck.
    var workerDeadline: Duration {
        let settings = settings(wait: { _ in })
        let attempt = (settings.attemptTimeout ?? .seconds(3600)) + settings.connectTimeout
        return attempt * maxAttempts + maxDelay * maxAttempts + .seconds(600)
    }
}
