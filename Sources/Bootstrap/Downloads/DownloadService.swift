import Fetch
import Synchronization
import WorkspaceSpec

/// Downloads with the spec's network settings (extra CA, proxy, limits),
/// telling the component's events what happens: one journal entry when a
/// download starts, finishes or fails, progress for STATUS and progress
/// bars ("downloading code-server 4.96.4: 41% of 120 MB"), and the waits
/// between attempts ("waiting for coder.example.com (coder agent), attempt
/// 3, next in 8 s"). A failure comes out as a `ComponentError` whose kind
/// says whether the server is at fault.
public struct DownloadService: Sendable {
    public var extraCABundle: String?
    public var proxy: Proxy
    /// Attempts within one call; past them the supervisor's own backoff takes over.
    public var retry: RetryPolicy

    public init(spec: WorkspaceSpec, extraCABundle: String?, retry: RetryPolicy = RetryPolicy(maxAttempts: 4, maxDelay: .seconds(8))) {
        self.extraCABundle = extraCABundle
        if let proxy = spec.coder?.proxy, let server = proxy.https ?? proxy.http {
            self.proxy = .server(server, noProxy: proxy.noProxy.isEmpty ? nil : proxy.noProxy.joined(separator: ","))
        } else {
            self.proxy = .direct
        }
        self.retry = retry
    }

    /// Downloads `request`; `what` names it for people ("code-server 4.96.4").
    public func download(_ request: DownloadRequest, what: String, events: ComponentEvents) async throws -> DownloadResult {
        let url = Self.shown(request.url)
        let host = Self.host(of: request.url)
        var retry = self.retry
        let sleep = retry.sleep
        let attempt = AttemptCounter()
        retry.sleep = { delay in
            events.report("waiting for \(host) (\(what)), attempt \(attempt.next()), next in \(Int(delay.components.seconds) + 1) s")
            try await sleep(delay)
        }
        events.download(.started(what: what, url: url))
        events.report("downloading \(what) from \(host)")
        let clock = ContinuousClock()
        let started = clock.now
        do {
            let downloader = try Downloader(settings: DownloadSettings(retry: retry, extraCABundle: extraCABundle, proxy: proxy))
            let result = try await downloader.download(request) { progress in
                events.progress(ComponentProgress(what: what, bytes: progress.bytes, totalBytes: progress.totalBytes,
                                                  bytesPerSecond: progress.bytesPerSecond))
            }
            events.download(.finished(what: what, url: url, bytes: result.bytesTransferred,
                                      notModified: result.outcome == .notModified, duration: started.duration(to: clock.now)))
            return result
        } catch let error as FetchError {
            let explained = Self.explain(error, host: host)
            events.download(.failed(what: what, url: url, error: explained))
            throw ComponentError(Self.kind(of: error), "\(what): \(explained)")
        } catch {
            events.download(.failed(what: what, url: url, error: "\(error)"))
            throw error
        }
    }

    /// The error in words that name the spec's setting where one would fix it.
    static func explain(_ error: FetchError, host: String) -> String {
        guard error.isUnknownCertificateAuthority, case let .transfer(_, _, detail, _) = error else { return error.description }
        return "TLS: unknown CA for \(host): add it to coder.caCertificates (\(detail))"
    }

    /// A server's or the network's fault, a local file problem (a full
    /// disk), or something the spec must change.
    static func kind(of error: FetchError) -> ComponentError.Kind {
        error.isServerFault ? .server : error.isLocal ? .local : .configuration
    }

    /// A URL for people and logs: without its query or fragment, which may
    /// carry a signed URL's credentials.
    static func shown(_ url: String) -> String {
        String(url.prefix { $0 != "?" && $0 != "#" })
    }

    static func host(of url: String) -> String {
        let afterScheme = url.split(separator: "/", omittingEmptySubsequences: true).dropFirst().first
        return afterScheme.map(String.init) ?? url
    }
}

/// Counts the attempts of one download from the retry callback.
private final class AttemptCounter: Sendable {
    private let count = Mutex(1)
    func next() -> Int { count.withLock { $0 += 1; return $0 } }
}
