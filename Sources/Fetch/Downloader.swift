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

    /// Loads libcurl.so.4 and libcrypto.so.3 (for the SHA-256) and, if
    /// settings.extraCABundle is set, builds the combined CA bundle.
    public init(settings: DownloadSettings = DownloadSettings()) throws(FetchError) {
        try CurlLibrary.load()
        try CryptoLibrary.load()
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
        let file = try ReceivedFile(
            try PartFile(path: destination.partPath), consumer: request.consumer, hashing: request.expectedSHA256 != nil)
        // A partial file above the limit cannot be the start of an acceptable file.
        if file.part.size > request.maxBytes { try file.truncate() }

        while true {
            try Task.checkCancellation()
            if file.part.size == 0 { partETag = nil }
            resumed = resumed || file.part.size > 0
            attempts += 1
            let transfer = Transfer(into: file, limit: request.maxBytes, progress: throttle)
            let curlRequest = makeCurlRequest(
                request, resumeFrom: file.part.size,
                ifNoneMatch: validator, ifRange: partETag)
            let completion = await withTaskCancellationHandler {
                await runOnDedicatedThread { transfer.run(curlRequest) }
            } onCancel: {
                transfer.cancel()
            }
            bytesTransferred += transfer.received
            if transfer.received > 0 { partETag = transfer.etag ?? partETag }

            let failure: FetchError
            if let reason = transfer.stopReason {
                switch reason {
                case let .failed(error):
                    throw error  // the disk or the consumer: not the server's doing
                case .tooLarge:
                    failure = .tooLarge(url: request.url, limit: request.maxBytes)
                case let .invalidResponse(detail):
                    // A server that answers a range with nonsense is not asked for one again.
                    if transfer.resumedFrom > 0 { try file.truncate() }
                    failure = .invalidResponse(url: request.url, detail: detail, attempts: attempts)
                case .notTheFile:
                    failure = .httpStatus(completion?.status ?? 0, url: request.url, attempts: attempts)
                }
            } else if let completion {
                switch completion.failure?.kind {
                case nil where completion.status == 304:
                    // The installed file is read only when there is a checksum to hold it to.
                    var sha256: String?
                    if let expected = request.expectedSHA256 {
                        let installed = destination.path
                        let actual = try await Self.blocking { () throws(FetchError) in
                            try Digest.hex(.sha256, ofFile: installed)
                        }
                        guard Self.same(expected, actual) else {
                            validator = nil  // the installed file is not the wanted one: fetch it whole
                            continue
                        }
                        sha256 = actual
                    }
                    try POSIXFile.remove(file.part.path)
                    return DownloadResult(
                        outcome: .notModified, bytesTransferred: bytesTransferred,
                        httpStatus: 304, etag: validator, sha256: sha256,
                        duration: .now - start, attempts: attempts)

                case nil where completion.status == 416 && transfer.resumedFrom > 0,
                    .httpStatus? where completion.status == 416 && transfer.resumedFrom > 0:
                    // The partial file is not a prefix of the current file.
                    // (libcurl 8.21 reports this 416 as a success, 7.76 and
                    // 7.88 as an error: the partial file might be complete,
                    // but without its ETag or checksum it cannot be told
                    // from a stale one of the same size.)
                    try file.truncate()
                    continue

                case nil where !(200...299).contains(completion.status):
                    // A 3xx without Location: no file came.
                    failure = .httpStatus(completion.status, url: request.url, attempts: attempts)

                case nil:
                    let sha256 = try await Self.blocking { () throws(FetchError) in try file.sha256() }
                    if let expected = request.expectedSHA256, let sha256, !Self.same(expected, sha256) {
                        if resumed && !restartedAfterMismatch {
                            // The prefix may come from an older version of the file.
                            restartedAfterMismatch = true
                            try file.truncate()
                            continue
                        }
                        try POSIXFile.remove(file.part.path)
                        throw FetchError.checksumMismatch(
                            url: request.url, expected: expected.lowercased(),
                            actual: sha256)
                    }
                    let mode = request.mode
                    try await Self.blocking {
                        try file.finishConsumer()
                        try file.part.finish(mode: mode)  // fsync: the file is durable before the rename
                    }
                    try await verify(file.part, request)
                    let etag = transfer.etag ?? partETag
                    try destination.install(file.part, etag: etag, keepETag: request.revalidation == .storedETag)
                    throttle?.update(bytes: file.part.size, totalBytes: file.part.size, force: true)
                    return DownloadResult(
                        outcome: .downloaded, bytesTransferred: bytesTransferred,
                        httpStatus: completion.status, etag: etag, sha256: sha256,
                        duration: .now - start, attempts: attempts)

                case .rangeIgnored?:
                    // The server sent the whole file instead of the rest: start over.
                    try file.truncate()
                    continue

                case .aborted? where transfer.wasCancelled:
                    throw CancellationError()

                case .bodyTooLarge?:
                    failure = .tooLarge(url: request.url, limit: request.maxBytes)

                case .redirectRefused?:
                    let hop = completion.refusedRedirect!
                    failure = .redirectRefused(from: hop.from, to: hop.to)

                case let kind?:
                    failure = Self.error(for: completion, kind: kind, url: request.url, attempts: attempts)
                }
            } else {
                preconditionFailure("Transfer.run returns no completion only after recording why")
            }

            if case .tooLarge = failure { try POSIXFile.remove(file.part.path) }
            failures += 1
            guard failure.isServerFault, failures < settings.retry.maxAttempts else { throw failure }
            try await settings.retry.sleep(
                settings.retry.delay(afterFailure: failures, retryAfter: transfer.retryAfter))
        }
    }

    /// Runs `work`, which blocks (reading, hashing or flushing a large file),
    /// on a dedicated thread, keeping the cooperative pool free.
    private static func blocking<T: Sendable, E: Error>(_ work: @escaping @Sendable () throws(E) -> T) async throws(E) -> T {
        try await runOnDedicatedThread { Result { () throws(E) in try work() } }.get()
    }

    /// Runs request.verify on the finished partial file; a refusal removes it.
    private func verify(_ part: PartFile, _ request: DownloadRequest) async throws {
        guard let verify = request.verify else { return }
        do {
            try await verify(part.path)
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            try POSIXFile.remove(part.path)
            throw FetchError.refused(url: request.url, reason: "\(error)")
        }
    }

    private func validate(_ request: DownloadRequest) throws(FetchError) {
        try RequestChecks.webURL(request.url)
        if let expected = request.expectedSHA256,
            expected.count != 64 || !expected.allSatisfy(\.isHexDigit)
        {
            throw .invalidRequest("expected SHA-256 \(expected) is not 64 hex digits")
        }
        guard request.maxBytes > 0 else {
            throw .invalidRequest("maxBytes \(request.maxBytes) is not a positive size")
        }
        _ = try RequestChecks.headerLines(request.headers)
    }

    /// The ETag to send as If-None-Match, only when there is a file to keep.
    private func currentValidator(_ request: DownloadRequest, _ destination: Destination) -> String? {
        switch request.revalidation {
        case .never: nil
        case .storedETag: destination.storedETag()
        case let .etag(etag): destination.exists ? etag : nil
        }
    }

    private func makeCurlRequest(
        _ request: DownloadRequest, resumeFrom: Int64,
        ifNoneMatch: String?, ifRange: String?
    ) -> CurlRequest {
        let maxBytes = request.maxBytes
        var headers = request.headers.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }
        if let ifNoneMatch { headers.append("If-None-Match: \(ifNoneMatch)") }
        // If-Range only takes a strong ETag.
        if resumeFrom > 0, let ifRange, !ifRange.hasPrefix("W/") { headers.append("If-Range: \(ifRange)") }
        return CurlRequest(
            url: request.url,
            headers: headers,
            resumeFrom: resumeFrom,
            maxRedirects: settings.maxRedirects,
            connectTimeoutMilliseconds: settings.connectTimeout.curlMilliseconds,
            lowSpeedBytesPerSecond: settings.lowSpeedLimit,
            lowSpeedSeconds: max(1, Int(settings.lowSpeedTime.seconds.rounded(.up))),
            timeoutMilliseconds: settings.attemptTimeout?.curlMilliseconds,
            // libcurl counts only this response's body, and before 7.79 it
            // fails on the Content-Length line, before the header callback
            // can tell an impossible length (offset plus length overflows: a
            // server fault) from a large one: on a resumed request the
            // Transfer's own checks do the exact accounting.
            maxBodyBytes: resumeFrom == 0 ? maxBytes : nil,
            caBundlePath: caBundle?.path,
            proxy: settings.proxy,
            userAgent: settings.userAgent)
    }

    private static func error(
        for completion: CurlCompletion, kind: CurlFailure.Kind, url: String,
        attempts: Int
    ) -> FetchError {
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
}
