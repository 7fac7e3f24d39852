import Fetch
import Synchronization

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The child side of `FetchWorkerProcess`: `coder-vm-bootstrap
/// fetch-worker` reads one `FetchWorkerRequest` (a JSON line on its
/// standard input; a check that waits reads `go` after it), runs it (a
/// download with `DownloadExecutor`, an API
/// call with Fetch's `HTTPClient`) and sends every `FetchWorkerMessage` as
/// a JSON line, the last one the end. SIGTERM ends it at once (its default
/// action): a download's partial file is already on disk for the next run.
public enum FetchWorker {
    /// Loads libcurl before the request is read (see `SpareFetchWorkers`);
    /// a failure to is told with the request's answer.
    public static func loadLibcurl() { try? HTTPClient.loadLibcurl() }

    /// Returns the exit status: 0 the work succeeded (a call got an answer,
    /// whatever its status), 1 it failed (the last message says why), 2 the
    /// request could not be read.
    /// - Parameters:
    ///   - nextLine: the next line of standard input, nil at its end (the
    ///     `go` a waiting check needs).
    ///   - send: writes one line; called from one thread at a time.
    public static func serve(
        _ requestLine: String, nextLine: @escaping @Sendable () async -> String?, send: @escaping @Sendable (String) -> Void
    ) async -> Int32 {
        let lock = Mutex(())
        let encode: @Sendable (FetchWorkerMessage) -> Void = { message in
            guard let data = try? JSONEncoder().encode(message) else { return }
            lock.withLock { _ in send(String(decoding: data, as: UTF8.self)) }
        }
        let request: FetchWorkerRequest
        do {
            request = try JSONDecoder().decode(FetchWorkerRequest.self, from: Data(requestLine.utf8))
        } catch {
            encode(.failed(DownloadFailure(.configuration, "the fetch worker cannot read its request: \(error)")))
            return 2
        }
        switch request.work {
        case let .download(job):
            do {
                let waitForGo: (@Sendable () async throws -> Void)? =
                    request.checkWaitsForGo
                    ? { @Sendable in
                        // Without it the daemon gave up on the download: keep the file for its next run.
                        guard await nextLine() == FetchWorkerRequest.go else { throw CancellationError() }
                    } : nil
                let result = try await DownloadExecutor(network: request.network).run(job, beforeCheck: waitForGo) { encode(.update($0)) }
                encode(.finished(result))
                return 0
            } catch let failure as DownloadFailure {
                encode(.failed(failure))
                return 1
            } catch is CancellationError {
                let reason = "the daemon ended the fetch worker's input before the check of \(shownURL(job.url)); the file is kept for the next try"
                encode(.failed(DownloadFailure(.local, reason)))
                return 1
            } catch {
                encode(.failed(DownloadFailure(.local, "\(error)")))
                return 1
            }
        case let .call(call):
            do {
                let client = try HTTPClient(settings: request.network.callSettings)
                let response = try await client.send(
                    call.method, call.url, headers: call.headers, body: call.body.map { Array($0) },
                    timeout: call.timeout, maxResponseBytes: call.maxResponseBytes)
                encode(.answered(APIAnswer(response)))
                return 0
            } catch let error as FetchError {
                encode(.callFailed(error))
                return 1
            } catch {
                encode(.failed(DownloadFailure(.local, "\(error)")))
                return 1
            }
        }
    }
}
