// Small HTTP calls to an API: a request with a body, a status and a short
// answer. The same network setup as Downloader (libcurl dlopen'ed, the
// extra CA bundle, the proxy, http and https only).

/// Sends API calls; one instance serves any number of concurrent calls.
///
/// Redirects are not followed: libcurl sends custom headers, a session
/// token among them, to wherever a redirect points, and a redirected PATCH
/// or POST changes meaning. A 3xx is returned as the answer with its
/// Location (RedirectPolicy refuses one to another scheme or from https to
/// http outright). Credentials belong in `headers`: errors name the URL.
public final class HTTPClient: Sendable {
    public let settings: DownloadSettings
    /// The combined CA bundle given to libcurl, when an extra one is set.
    let caBundle: CABundle?

    /// Loads libcurl.so.4 and, if settings.extraCABundle is set, builds the
    /// combined CA bundle. Only the connection settings are used (timeouts,
    /// CA bundle, proxy, user agent); a caller decides whether to try again.
    /// Loads libcurl now rather than at the first call or download (a
    /// fetch worker started ahead of its work does it while it waits).
    public static func loadLibcurl() throws(FetchError) { try CurlLibrary.load() }

    public init(settings: DownloadSettings = DownloadSettings()) throws(FetchError) {
        try CurlLibrary.load()
        self.settings = settings
        caBundle = try settings.extraCABundle.map { path throws(FetchError) in try CABundle(combining: path) }
    }

    /// Sends `method` (an upper-case token such as "PATCH") to `url` and
    /// returns the answer, whatever its status.
    ///
    /// - Parameters:
    ///   - timeout: for the whole call, connecting included.
    ///   - maxResponseBytes: a longer body fails the call with .tooLarge.
    /// - Throws: FetchError for a call that got no complete answer (no
    ///   connection, TLS, timeout, too large), or CancellationError.
    public func send(
        _ method: String, _ url: String, headers: [String: String] = [:], body: [UInt8]? = nil,
        timeout: Duration = .seconds(30), maxResponseBytes: Int = 64 * 1024
    ) async throws -> HTTPResponse {
        try RequestChecks.webURL(url)
        guard !method.isEmpty, method.allSatisfy({ $0.isASCII && $0.isUppercase }) else {
            throw FetchError.invalidRequest("\(method) is not an HTTP method")
        }
        guard maxResponseBytes > 0 else {
            throw FetchError.invalidRequest("maxResponseBytes \(maxResponseBytes) is not a positive size")
        }
        var lines = try RequestChecks.headerLines(headers)
        // No "Expect: 100-continue" round trip before a body.
        if body != nil { lines.append("Expect:") }
        let timeoutMilliseconds = timeout.curlMilliseconds
        let request = CurlRequest(
            url: url, headers: lines, maxRedirects: 0,
            connectTimeoutMilliseconds: min(settings.connectTimeout.curlMilliseconds, timeoutMilliseconds),
            lowSpeedBytesPerSecond: settings.lowSpeedLimit,
            lowSpeedSeconds: max(1, Int(settings.lowSpeedTime.seconds.rounded(.up))),
            timeoutMilliseconds: timeoutMilliseconds, maxBodyBytes: Int64(maxResponseBytes),
            caBundlePath: caBundle?.path, proxy: settings.proxy, userAgent: settings.userAgent,
            method: method, body: body, failOnError: false, followRedirects: false)
        let exchange = HTTPExchange(limit: maxResponseBytes)
        let completion = await withTaskCancellationHandler {
            await runOnDedicatedThread { exchange.run(request) }
        } onCancel: {
            exchange.cancel()
        }
        guard let failure = completion.failure else {
            return HTTPResponse(status: completion.status, body: exchange.body, location: exchange.location)
        }
        switch failure.kind {
        case .aborted where exchange.wasCancelled:
            throw CancellationError()
        case .bodyTooLarge:
            throw FetchError.tooLarge(url: url, limit: Int64(maxResponseBytes))
        case .writeFailed where exchange.exceededLimit:  // the body callback refused what went past the limit
            throw FetchError.tooLarge(url: url, limit: Int64(maxResponseBytes))
        case .redirectRefused:
            let hop = completion.refusedRedirect!
            throw FetchError.redirectRefused(from: hop.from, to: hop.to)
        case .timedOut:
            throw FetchError.timedOut(url: url, detail: failure.message, attempts: 1)
        default:
            throw FetchError.transfer(url: url, curlCode: failure.code, detail: failure.message, attempts: 1)
        }
    }
}
