import Fetch
import Synchronization
import WorkspaceSpec

/// Downloads with the spec's network settings (extra CA, proxy), turning
/// progress and retries into the one-line reports people see in
/// `systemctl status` ("downloading code-server 4.96.4: 41% of 120 MB",
/// "waiting for coder.example.com, attempt 3, next in 8 s").
public struct DownloadService: Sendable {
    public var extraCABundle: String?
    public var proxy: Proxy
    public var retry: RetryPolicy

    public init(spec: WorkspaceSpec, extraCABundle: String?, retry: RetryPolicy = RetryPolicy(maxAttempts: 8, maxDelay: .seconds(30))) {
        self.extraCABundle = extraCABundle
        if let proxy = spec.coder?.proxy, let server = proxy.https ?? proxy.http {
            self.proxy = .server(server, noProxy: proxy.noProxy.isEmpty ? nil : proxy.noProxy.joined(separator: ","))
        } else {
            self.proxy = .direct
        }
        self.retry = retry
    }

    /// Downloads `request`; `what` names it in reports ("code-server 4.96.4").
    public func download(_ request: DownloadRequest, what: String,
                         report: @escaping @Sendable (String) -> Void) async throws -> DownloadResult {
        let attempts = Atomic<Int>(1)
        var retry = self.retry
        let sleep = retry.sleep
        let host = Self.host(of: request.url)
        retry.sleep = { delay in
            let attempt = attempts.add(1, ordering: .relaxed).newValue
            let seconds = Int((Double(delay.components.seconds) + Double(delay.components.attoseconds) / 1e18).rounded(.up))
            report("waiting for \(host) (\(what)), attempt \(attempt), next in \(seconds) s")
            try await sleep(delay)
        }
        let downloader = try Downloader(settings: DownloadSettings(retry: retry, extraCABundle: extraCABundle, proxy: proxy))
        report("downloading \(what) from \(host)")
        return try await downloader.download(request) { progress in
            report("downloading \(what): " + Self.describe(progress))
        }
    }

    static func describe(_ progress: DownloadProgress) -> String {
        let done = megabytes(progress.bytes)
        guard let total = progress.totalBytes, total > 0 else { return "\(done) so far" }
        let percent = Int(Double(progress.bytes) * 100 / Double(total))
        return "\(percent)% of \(megabytes(total))"
    }

    static func megabytes(_ bytes: Int64) -> String {
        bytes >= 10_000_000 ? "\(bytes / 1_000_000) MB" : "\(Double(bytes / 100_000) / 10) MB"
    }

    static func host(of url: String) -> String {
        let afterScheme = url.split(separator: "/", omittingEmptySubsequences: true).dropFirst().first
        return afterScheme.map(String.init) ?? url
    }
}
