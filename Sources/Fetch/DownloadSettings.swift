// How a Downloader talks to the network: the same for every download.

public struct DownloadSettings: Sendable {
    /// Longest wait for TCP + TLS to connect (CURLOPT_CONNECTTIMEOUT_MS).
    public var connectTimeout: Duration
    /// A transfer slower than this many bytes/s for `lowSpeedTime` is
    /// aborted as timed out (CURLOPT_LOW_SPEED_LIMIT), then retried.
    public var lowSpeedLimit: Int
    /// Rounded up to whole seconds (CURLOPT_LOW_SPEED_TIME).
    public var lowSpeedTime: Duration
    /// Deadline of each attempt as a whole (CURLOPT_TIMEOUT_MS), 30 minutes
    /// by default: a server that keeps sending just above the low-speed
    /// limit cannot hold a download forever. A timed-out attempt is retried,
    /// resuming where it stopped; nil for no deadline. Cancel the task for a
    /// deadline on the whole download.
    public var attemptTimeout: Duration?
    /// Redirects followed before giving up (CURLOPT_MAXREDIRS).
    public var maxRedirects: Int
    public var retry: RetryPolicy
    /// PEM file of CA certificates trusted in addition to the system store,
    /// for a Coder deployment or proxy behind a private CA.
    public var extraCABundle: String?
    public var proxy: Proxy
    public var userAgent: String
    /// Shortest time between two progress reports.
    public var progressInterval: Duration

    public init(
        connectTimeout: Duration = .seconds(30),
        lowSpeedLimit: Int = 1024,
        lowSpeedTime: Duration = .seconds(60),
        attemptTimeout: Duration? = .seconds(30 * 60),
        maxRedirects: Int = 10,
        retry: RetryPolicy = RetryPolicy(),
        extraCABundle: String? = nil,
        proxy: Proxy = .environment,
        userAgent: String = "coder-vm-bootstrap",
        progressInterval: Duration = .milliseconds(500)
    ) {
        self.connectTimeout = connectTimeout
        self.lowSpeedLimit = lowSpeedLimit
        self.lowSpeedTime = lowSpeedTime
        self.attemptTimeout = attemptTimeout
        self.maxRedirects = maxRedirects
        self.retry = retry
        self.extraCABundle = extraCABundle
        self.proxy = proxy
        self.userAgent = userAgent
        self.progressInterval = progressInterval
    }
}
