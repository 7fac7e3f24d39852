import Fetch

/// How every download and API call of a workspace reaches the network, from
/// the spec: the extra CA bundle and the proxy; for downloads also the
/// spec's bounds (`downloads.maxBytes`, `downloads.attemptTimeout`) and how
/// often a server fault is retried within one download (past that the
/// supervisor's own backoff takes over).
public struct DownloadNetwork: Codable, Sendable, Equatable {
    /// PEM file of the spec's CA certificates, trusted beside the system store.
    public var extraCABundle: String?
    public var proxy: Proxy
    /// Largest file a download accepts (`downloads.maxBytes`).
    public var maxBytes: Int64
    /// How long one attempt of a download may take (`downloads.attemptTimeout`).
    public var attemptTimeout: Duration
    public var maxAttempts: Int
    public var initialDelay: Duration
    public var maxDelay: Duration

    public init(
        extraCABundle: String?, proxy: Proxy, maxBytes: Int64 = DownloadRequest.defaultMaxBytes,
        attemptTimeout: Duration = .seconds(1800), maxAttempts: Int = 4, initialDelay: Duration = .seconds(1),
        maxDelay: Duration = .seconds(8)
    ) {
        self.extraCABundle = extraCABundle
        self.proxy = proxy
        self.maxBytes = maxBytes
        self.attemptTimeout = attemptTimeout
        self.maxAttempts = maxAttempts
        self.initialDelay = initialDelay
        self.maxDelay = maxDelay
    }

    /// Fetch's settings for a download; `wait` does the waits between attempts.
    func settings(wait: @escaping @Sendable (Duration) async throws -> Void) -> DownloadSettings {
        DownloadSettings(
            attemptTimeout: attemptTimeout,
            retry: RetryPolicy(maxAttempts: maxAttempts, initialDelay: initialDelay, maxDelay: maxDelay, sleep: wait),
            extraCABundle: extraCABundle, proxy: proxy)
    }

    /// Fetch's settings for an API call (`HTTPClient`): the connection's
    /// only; each call brings its own deadline.
    var callSettings: DownloadSettings {
        DownloadSettings(extraCABundle: extraCABundle, proxy: proxy)
    }

    /// Longer than any download can take while each attempt keeps to its
    /// own deadlines (connect, attempt, waits), plus time for the check of
    /// the body: past it, a fetch worker is stuck.
    var workerDeadline: Duration {
        let settings = settings(wait: { _ in })
        return (attemptTimeout + settings.connectTimeout) * maxAttempts + maxDelay * maxAttempts + .seconds(600)
    }

    /// A download's error in words that name the spec's setting where one
    /// would change it (see also `DownloadService.explain`).
    func explain(_ error: FetchError, host: String) -> String {
        switch error {
        case let .tooLarge(url, limit):
            "GET \(url): the file is larger than downloads.maxBytes (\(limit) bytes); nothing was installed: "
                + "check the URL, or raise downloads.maxBytes in the spec if the file really is that large"
        case let .timedOut(url, detail, attempts):
            "GET \(url) timed out\(attempts > 1 ? " after \(attempts) attempts" : ""): \(detail); an attempt may take "
                + "downloads.attemptTimeout (\(attemptTimeout.components.seconds) s) at most: check the network path and proxy, "
                + "or raise downloads.attemptTimeout in the spec for a large file on a slow link"
        default:
            DownloadService.explain(error, host: host)
        }
    }
}
