import HostSystem
import Logging

/// Fetch workers started ahead of their work (see `StartedCommand`): their
/// processes run, with libcurl loaded, and wait for a request. When this
/// boot's spec arrives, the boot log's registration with Coder (which the
/// agent waits for) and the agent binary's revalidation go out at once,
/// each to a worker that is ready, instead of each waiting for a process
/// to start: on a warm boot that start was most of the daemon's own time.
/// A worker taken is not replaced; the ones not taken are dismissed (they
/// read end-of-file and exit) once the daemon has sent READY=1.
public final class SpareFetchWorkers: Sendable {
    private let workers: [StartedCommand]
    /// The longest line a spare takes: more than any call's answer or
    /// download's message (a request that could need more starts its own).
    static let lineLimit = 1024 * 1024 + FetchWorkerProcess.lineLimit

    /// Starts `count` workers of `executable` now.
    public init(executable: String, count: Int = 2, logger: Logger) {
        workers = (0..<count).map { _ in
            StartedCommand(
                HostCommand([executable, "fetch-worker"], outputLimit: 4096), lineLimit: Self.lineLimit,
                early: { line in logger.warning("fetch worker: \(line.prefix(500))", metadata: ["stage": "fetch-worker"]) })
        }
    }

    /// A spare for one request, or nil when all are taken or dismissed.
    func take() -> StartedCommand? { workers.first { $0.take() } }

    /// Ends the spares not taken.
    public func dismiss() {
        for worker in workers { worker.dismiss() }
    }
}
