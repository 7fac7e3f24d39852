// Downloads files over HTTP(S) with libcurl: retries, resume, revalidation,
// checksum and atomic install. See DownloadRequest and DownloadSettings.
#if canImport(Glibc)
import Glibc
#endif

/// Downloads files; one instance serves any number of concurrent downloads.
///
/// Each request runs curl_easy_perform on a thread of its own (see
/// runOnDedicatedThread) rather than through curl_multi: downloads are few
/// (code-server, the agent), a blocking call per thread is the simplest
/// correct code, and the Swift cooperative pool is never blocked.
public final class Downloader: Sendable {
    public let settings: DownloadSettings
    /// The combined CA bundle given to libcurl, when an extra one is set.
    let caBundle: CABundle?

    /// Loads libcurl.so.4 and, if settings.extraCABundle is set, builds the
    /// combined CA bundle.
    public init(settings: DownloadSettings = DownloadSettings()) throws(FetchError) {
        try CurlLibrary.load()
        self.settings = settings
        caBundle = try settings.extraCABundle.map { path throws(FetchError) in try CABundle(combining: path) }
    }

    /// The libcurl in use, e.g. "libcurl/7.88.1 OpenSSL/3.0.11 ...", for the log.
    public static var libcurlVersion: String? {
        (try? CurlLibrary.load()).map { CurlLibrary.version }
    }

    /// Downloads `request.url` and installs it at `request.destination`.
    ///
    /// - Parameter progress: called on the transfer's thread, at most once
    ///   per settings.progressInterval, and once more when the file is complete.
    /// - Throws: FetchError, or CancellationError when the task is cancelled
    ///   (the partial file is kept for a later resume).
    @discardableResult
    public func download(
        _ request: DownloadRequest,
        progress: (@Sendable (DownloadProgress) -> Void)? = nil
    ) async throws -> DownloadResult {
        let start = ContinuousClock.now
        let destination = try Destination(request.destination)
        try validate(request)
        let throttle = progress.map { ProgressThrottle(interval: settings.progressInterval, report: $0) }
        do {
            return try await requestUntilDone(request, destination, throttle: throttle, start: start)
        } catch {
            // A non-empty partial file is kept for the next resume; an empty one is litter.
            if POSIXFile.size(destination.partPath) == 0 {
                try? POSIXFile.remove(destination.partPath)
            }
            throw error
        }
    }

    /// Requests until the file is installed, found current, or a failure is final.
    private func requestUntilDone(
        _ request: DownloadRequest, _ destination: Destination,
        throttle: ProgressThrottle?, start: ContinuousClock.Instant
    ) async throws -> DownloadResult {
        var validator = currentValidator(request, destination)
        var attempts = 0
        var failures = 0
        var bytesTransferred: Int64 = 0
        var partETag: String?  // of the bytes in the partial file, for If-Range
        var resumed = false
        var restartedAfterMismatch = false

        while true {
            try Task.checkCancellation()
            let part = try PartFile(path: destination.partPath)
            if part.size == 0 { partETag = nil }
            resumed = resumed || part.size > 0
            attempts += 1
            let transfer = Transfer(writingTo: part, progress: throttle)
            let curlRequest = makeCurlRequest(request, resumeFrom: part.size,
                                              ifNoneMatch: validator, ifRange: partETag)
            let completion = await withTaskCancellationHandler {
                await runOnDedicatedThread { CurlEasy().perform(curlRequest, delegate: transfer) }
            } onCancel: {
                transfer.cancel()
            }
            bytesTransferred += transfer.received
            if transfer.received > 0 { partETag = transfer.etag ?? partETag }

            switch completion.failure?.kind {
            case nil where completion.status == 304:
                let sha256 = try Digest.hex(.sha256, ofFile: destination.path)
                if let expected = request.expectedSHA256, !Self.same(expected, sha256) {
                    validator = nil  // the installed file is not the wanted one: fetch it whole
                    continue
                }
                try POSIXFile.remove(part.path)
                return DownloadResult(outcome: .notModified, bytesTransferred: bytesTransferred,
                                      httpStatus: 304, etag: validator, sha256: sha256,
                                      duration: .now - start, attempts: attempts)

            case nil:
                let sha256 = try Digest.hex(.sha256, ofFile: part.path)
                if let expected = request.expectedSHA256, !Self.same(expected, sha256) {
                    if resumed && !restartedAfterMismatch {
                        // The prefix may come from an older version of the file.
                        restartedAfterMismatch = true
                        try part.truncate()
                        continue
                    }
                    try POSIXFile.remove(part.path)
                    throw FetchError.checksumMismatch(url: request.url, expected: expected.lowercased(),
                                                      actual: sha256)
                }
                let etag = transfer.etag ?? partETag
                try destination.install(part, mode: request.mode, etag: etag,
                                        keepETag: request.revalidation == .storedETag)
                throttle?.update(bytes: part.size, totalBytes: part.size, force: true)
                return DownloadResult(outcome: .downloaded, bytesTransferred: bytesTransferred,
                                      httpStatus: completion.status, etag: etag, sha256: sha256,
                                      duration: .now - start, attempts: attempts)

            case .rangeIgnored?:
                // The server sent the whole file instead of the rest: start over.
                try part.truncate()

            case .httpStatus? where completion.status == 416 && transfer.resumedFrom > 0:
                // The partial file is not a prefix of the current file.
                try part.truncate()

            case .aborted? where transfer.wasCancelled:
                throw CancellationError()

            case .writeFailed?:
                throw FetchError.file(operation: "write", path: part.path, errno: part.writeError)

            case let kind?:
                let error = Self.error(for: completion, kind: kind, url: request.url, attempts: attempts)
                failures += 1
                guard Self.isTransient(kind, status: completion.status),
                      failures < settings.retry.maxAttempts else { throw error }
                try await settings.retry.sleep(
                    settings.retry.delay(afterFailure: failures, retryAfter: transfer.retryAfter))
            }
        }
    }

    private func validate(_ request: DownloadRequest) throws(FetchError) {
        let scheme = request.url.prefix(while: { $0 != ":" }).lowercased()
        guard scheme == "http" || scheme == "https" else {
            throw .invalidRequest("\(request.url) is not an http:// or https:// URL")
        }
        if let expected = request.expectedSHA256,
           expected.count != 64 || !expected.allSatisfy(\.isHexDigit) {
            throw .invalidRequest("expected SHA-256 \(expected) is not 64 hex digits")
        }
        for (name, value) in request.headers
        where name.isEmpty || name.contains(":") || (name + value).contains(where: \.isNewline) {
            throw .invalidRequest("header \(name) is malformed")
        }
    }

    /// The ETag to send as If-None-Match, only when there is a file to keep.
    private func currentValidator(_ request: DownloadRequest, _ destination: Destination) -> String? {
        switch request.revalidation {
        case .never: nil
        case .storedETag: destination.storedETag()
        case let .etag(etag): destination.exists ? etag : nil
        }
    }

    private func makeCurlRequest(_ request: DownloadRequest, resumeFrom: Int64,
                                 ifNoneMatch: String?, ifRange: String?) -> CurlRequest {
        var headers = request.headers.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }
        if let ifNoneMatch { headers.append("If-None-Match: \(ifNoneMatch)") }
        // If-Range only takes a strong ETag.
        if resumeFrom > 0, let ifRange, !ifRange.hasPrefix("W/") { headers.append("If-Range: \(ifRange)") }
        return CurlRequest(
            url: request.url,
            headers: headers,
            resumeFrom: resumeFrom,
            maxRedirects: settings.maxRedirects,
            connectTimeoutMilliseconds: Self.milliseconds(settings.connectTimeout),
            lowSpeedBytesPerSecond: settings.lowSpeedLimit,
            lowSpeedSeconds: max(1, Int(settings.lowSpeedTime.seconds.rounded(.up))),
            timeoutMilliseconds: settings.attemptTimeout.map(Self.milliseconds),
            caBundlePath: caBundle?.path,
            proxy: settings.proxy,
            userAgent: settings.userAgent)
    }

    /// Worth another attempt: the server or the network may do better later.
    private static func isTransient(_ kind: CurlFailure.Kind, status: Int) -> Bool {
        switch kind {
        case .httpStatus:
            status == 408 || status == 429 || ((500...599).contains(status) && status != 501 && status != 505)
        case .timedOut, .interrupted, .unreachable, .tlsHandshake:
            true
        case .rangeIgnored, .untrustedCertificate, .tooManyRedirects, .aborted, .writeFailed, .other:
            false
        }
    }

    private static func error(for completion: CurlCompletion, kind: CurlFailure.Kind, url: String,
                              attempts: Int) -> FetchError {
        let failure = completion.failure!
        switch kind {
        case .httpStatus: return .httpStatus(completion.status, url: url, attempts: attempts)
        case .timedOut: return .timedOut(url: url, detail: failure.message, attempts: attempts)
        default: return .transfer(url: url, curlCode: failure.code, detail: failure.message, attempts: attempts)
        }
    }

    private static func same(_ expected: String, _ actual: String) -> Bool {
        expected.lowercased() == actual
    }

    private static func milliseconds(_ duration: Duration) -> Int {
        max(1, Int((duration.seconds * 1000).rounded(.up)))
    }
}
