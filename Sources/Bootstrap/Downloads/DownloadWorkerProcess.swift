#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Fetch
import HostSystem
import Logging
import Synchronization

/// A download run by a child process, `coder-vm-bootstrap download-worker`
/// (see `DownloadWorker`), so that the daemon itself never maps libcurl,
/// its TLS stack or libcrypto: they come and go with the child. The request
/// goes in on the child's standard input (never in its arguments: headers
/// may carry a token); its messages come back as JSON lines on its standard
/// output; its standard error goes to the journal, bounded. Cancelling the
/// task tears the child's process group down (SIGTERM, then SIGKILL: see
/// `HostCommand`); the partial file stays for the next run to resume.
struct DownloadWorkerProcess: Sendable {
    /// The worker's program.
    let executable: String

    /// Lines of the worker's standard error that go to the journal, per download.
    static let errorLinesLogged = 20

    func run(_ request: DownloadWorkerRequest, report: @escaping @Sendable (DownloadUpdate) -> Void,
             logger: Logger) async throws -> DownloadResult {
        let input = Array(try JSONEncoder().encode(request)) + [UInt8(ascii: "\n")]
        let command = HostCommand([executable, "download-worker"], input: input,
                                  deadline: request.network.workerDeadline, outputLimit: 4096)
        let end = Mutex<DownloadWorkerMessage?>(nil)
        let errorLines = Atomic(0)
        let metadata: Logger.Metadata = ["stage": "download"]
        do {
            try await command.runLines(line: { line in
                guard let message = try? JSONDecoder().decode(DownloadWorkerMessage.self, from: Data(line.utf8)) else {
                    logger.warning("the download worker sent a line that is no message: \(line.prefix(200))", metadata: metadata)
                    return
                }
                if case let .update(update) = message { report(update) } else { end.withLock { $0 = message } }
            }, errorLine: { line in
                let count = errorLines.add(1, ordering: .relaxed).newValue
                if count <= Self.errorLinesLogged {
                    logger.warning("download worker: \(line.prefix(500))", metadata: metadata)
                } else if count == Self.errorLinesLogged + 1 {
                    logger.warning("download worker: more on its standard error, not logged", metadata: metadata)
                }
            })
        } catch {
            if Task.isCancelled { throw CancellationError() }
            // A worker that reported its failure exits with 1: the report says why.
            if end.withLock({ $0 }) == nil { throw DownloadFailure(.local, "the download worker failed: \(error)") }
        }
        switch end.withLock({ $0 }) {
        case let .finished(result)?: return result
        case let .failed(failure)?: throw failure
        case .update?, nil: throw DownloadFailure(.local, "the download worker ended without saying how the download went")
        }
    }
}
