#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Synchronization

/// The child side of `DownloadWorkerProcess`: `coder-vm-bootstrap
/// download-worker` reads one `DownloadWorkerRequest` (a JSON line on its
/// standard input), runs it with `DownloadExecutor` and sends every
/// `DownloadWorkerMessage` as a JSON line, the last one `finished` or
/// `failed`. SIGTERM ends it at once (its default action): the partial
/// file is already on disk for the next run.
public enum DownloadWorker {
    /// Returns the exit status: 0 the download succeeded, 1 it failed (the
    /// last message says why), 2 the request could not be read.
    /// - Parameter send: writes one line; called from one thread at a time.
    public static func serve(_ requestLine: String?, send: @escaping @Sendable (String) -> Void) async -> Int32 {
        let lock = Mutex(())
        let encode: @Sendable (DownloadWorkerMessage) -> Void = { message in
            guard let data = try? JSONEncoder().encode(message) else { return }
            lock.withLock { _ in send(String(decoding: data, as: UTF8.self)) }
        }
        let request: DownloadWorkerRequest
        do {
            request = try JSONDecoder().decode(DownloadWorkerRequest.self, from: Data((requestLine ?? "").utf8))
        } catch {
            encode(.failed(DownloadFailure(.configuration, "the download worker cannot read its request: \(error)")))
            return 2
        }
        do {
            let result = try await DownloadExecutor(network: request.network).run(request.job) { encode(.update($0)) }
            encode(.finished(result))
            return 0
        } catch let failure as DownloadFailure {
            encode(.failed(failure))
            return 1
        } catch {
            encode(.failed(DownloadFailure(.local, "\(error)")))
            return 1
        }
    }
}
