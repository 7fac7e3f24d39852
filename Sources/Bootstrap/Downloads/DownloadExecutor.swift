import Fetch
import HostSystem
import Synchronization

/// Runs one `DownloadJob` in this process: Fetch's `Downloader` with the
/// workspace's network settings, the body unpacked while it arrives or the
/// program checked before it is installed. The fetch worker runs it for
/// the daemon; a short-lived command (a unit's ExecStartPre) runs it itself.
/// The spec's bounds (`DownloadNetwork.maxBytes`, `.attemptTimeout`) hold
/// for every job.
struct DownloadExecutor: Sendable {
    let network: DownloadNetwork

    /// Runs `job`, telling `report` what happens until it ends (started,
    /// progress, the waits between attempts). `beforeCheck` runs between
    /// the complete file and its check (a program's, which runs it as a
    /// user that may not exist yet).
    ///
    /// - Throws: `DownloadFailure`, classified for the supervisor, or
    ///   CancellationError (the partial file is kept for a later resume).
    func run(
        _ job: DownloadJob, beforeCheck: (@Sendable () async throws -> Void)? = nil,
        report: @escaping @Sendable (DownloadUpdate) -> Void
    ) async throws -> DownloadResult {
        let attempt = Atomic(1)
        let settings = network.settings { delay in
            let next = attempt.add(1, ordering: .relaxed).newValue
            report(.retryWait(attempt: next, delay: delay))
            try await Task.sleep(for: delay)
        }
        report(.started)
        do {
            let downloader = try Downloader(settings: settings)
            return try await downloader.download(try request(for: job, beforeCheck: beforeCheck)) { progress in
                report(.progress(bytes: progress.bytes, totalBytes: progress.totalBytes, bytesPerSecond: progress.bytesPerSecond))
            }
        } catch is CancellationError {
            throw CancellationError()
        } catch let error as ArchiveError {
            throw DownloadFailure(.configuration, "the tarball from \(shownURL(job.url)) cannot be installed: \(error)")
        } catch let error as FetchError {
            throw DownloadFailure(
                DownloadFailure.Fault(DownloadService.kind(of: error)),
                network.explain(error, host: DownloadService.host(of: job.url)))
        } catch {
            let classified = ComponentError.classify(error)
            throw DownloadFailure(DownloadFailure.Fault(classified.kind), classified.description)
        }
    }

    /// Fetch's request for `job`, with the consumer or check its body asks for.
    private func request(for job: DownloadJob, beforeCheck: (@Sendable () async throws -> Void)?) throws -> DownloadRequest {
        var request = DownloadRequest(
            url: job.url, destination: job.destination, expectedSHA256: job.expectedSHA256,
            mode: job.mode, revalidation: job.revalidation, headers: job.headers,
            maxBytes: network.maxBytes)
        switch job.body {
        case .install:
            break
        case let .unpack(staging, stripComponents):
            guard stripComponents >= 0 else { throw ComponentError(.configuration, "stripComponents \(stripComponents) is negative") }
            request.consumer = try UnpackingConsumer(
                into: try Directory.system(staging),
                policy: ArchivePolicy(stripComponents: stripComponents))
        case let .verifyProgram(user, expected):
            let check = ProgramCheck(userName: user, expectVersionContaining: expected)
            let url = job.url
            request.verify = { part in
                try await beforeCheck?()
                try await check.check(part, from: url)
            }
        }
        return request
    }
}
