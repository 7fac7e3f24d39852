import Fetch
import HostSystem
import Logging
import Synchronization

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A download or an API call run by a child process, `coder-vm-bootstrap
/// fetch-worker` (see `FetchWorker`), so that the daemon itself never maps
/// libcurl, its TLS stack or libcrypto: they come and go with the child.
/// The request goes in on the child's standard input (never in its
/// arguments or environment: headers carry the agent token); its messages
/// come back as JSON lines on its standard output; its standard error goes
/// to the journal, bounded. Cancelling the task tears the child's process
/// group down (SIGTERM, then SIGKILL: see `HostCommand`); a download's
/// partial file stays for the next run to resume.
struct FetchWorkerProcess: Sendable {
    /// The worker's program.
    let executable: String
    /// Workers already running, taken first (at boot).
    var spares: SpareFetchWorkers?

    /// Lines of the worker's standard error that go to the journal, per run.
    static let errorLinesLogged = 20
    /// Room in a line for a message's text besides an answer's body.
    static let lineLimit = 64 * 1024

    /// Runs `job`, handing its updates to `report`; its check waits for
    /// `beforeCheck` (see `FetchWorkerRequest.checkWaitsForGo`).
    func download(
        _ job: DownloadJob, network: DownloadNetwork, beforeCheck: (@Sendable () async throws -> Void)?,
        report: @escaping @Sendable (DownloadUpdate) -> Void, logger: Logger
    ) async throws -> DownloadResult {
        let end = try await run(
            FetchWorkerRequest(.download(job), network: network, checkWaitsForGo: beforeCheck != nil),
            deadline: network.workerDeadline, lineLimit: Self.lineLimit, beforeCheck: beforeCheck, report: report,
            logger: logger)
        switch end {
        case let .finished(result): return result
        case let .failed(failure): throw failure
        default: throw DownloadFailure(.local, "the fetch worker ended a download with an answer to a call")
        }
    }

    /// Sends `call` and returns the answer, whatever its status.
    /// - Throws: FetchError as `HTTPClient.send` would, DownloadFailure
    ///   when the worker itself failed, or CancellationError.
    func send(_ call: APICall, network: DownloadNetwork, logger: Logger) async throws -> HTTPResponse {
        // Beyond the call's own deadline: the worker's start and its CA
        // bundle. The answer's line holds its body in base64.
        let end = try await run(
            FetchWorkerRequest(.call(call), network: network), deadline: call.timeout + .seconds(30),
            lineLimit: call.maxResponseBytes / 3 * 4 + 4 + Self.lineLimit, report: { _ in }, logger: logger)
        switch end {
        case let .answered(answer): return answer.response
        case let .callFailed(error): throw error
        case let .failed(failure): throw failure
        default: throw DownloadFailure(.local, "the fetch worker ended a call with a download's result")
        }
    }

    /// Runs the worker on `request`, its `go` sent once `beforeCheck`
    /// returns; returns its last message (never an update).
    private func run(
        _ request: FetchWorkerRequest, deadline: Duration, lineLimit: Int,
        beforeCheck: (@Sendable () async throws -> Void)? = nil,
        report: @escaping @Sendable (DownloadUpdate) -> Void, logger: Logger
    ) async throws -> FetchWorkerMessage {
        let (inputs, give) = AsyncStream<[UInt8]>.makeStream()
        give.yield(Array(try JSONEncoder().encode(request)) + [UInt8(ascii: "\n")])
        // A wait given up (cancelled: the run ended) closes the input without the go.
        let opening = beforeCheck.map { beforeCheck in
            Task {
                if (try? await beforeCheck()) != nil { give.yield(Array((FetchWorkerRequest.go + "\n").utf8)) }
                give.finish()
            }
        }
        if opening == nil { give.finish() }
        defer { opening?.cancel() }
        let end = Mutex<FetchWorkerMessage?>(nil)
        let errorLines = Atomic(0)
        let metadata: Logger.Metadata = ["stage": "fetch-worker"]
        let line: @Sendable (String) -> Void = { line in
            guard let message = try? JSONDecoder().decode(FetchWorkerMessage.self, from: Data(line.utf8)) else {
                logger.warning("the fetch worker sent a line that is no message: \(line.prefix(200))", metadata: metadata)
                return
            }
            if case let .update(update) = message { report(update) } else { end.withLock { $0 = message } }
        }
        let errorLine: @Sendable (String) -> Void = { line in
            let count = errorLines.add(1, ordering: .relaxed).newValue
            if count <= Self.errorLinesLogged {
                logger.warning("fetch worker: \(line.prefix(500))", metadata: metadata)
            } else if count == Self.errorLinesLogged + 1 {
                logger.warning("fetch worker: more on its standard error, not logged", metadata: metadata)
            }
        }
        do {
            if lineLimit <= SpareFetchWorkers.lineLimit, let spare = spares?.take() {
                try await spare.runLines(inputs: inputs, deadline: deadline, line: line, errorLine: errorLine)
            } else {
                let command = HostCommand([executable, "fetch-worker"], deadline: deadline, outputLimit: 4096)
                try await command.runLines(lineLimit: lineLimit, inputs: inputs, line: line, errorLine: errorLine)
            }
        } catch {
            if Task.isCancelled { throw CancellationError() }
            // A worker that reported its failure exits with 1: the report says why.
            if end.withLock({ $0 }) == nil { throw DownloadFailure(.local, "the fetch worker failed: \(error)") }
        }
        guard let last = end.withLock({ $0 }) else {
            throw DownloadFailure(.local, "the fetch worker ended without saying how it went")
        }
        return last
    }
}
