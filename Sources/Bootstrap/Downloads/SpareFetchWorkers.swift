import HostSystem
import Logging
import Synchronization

/// Fetch workers started ahead of their work (see `StartedCommand`): their
/// processes run, with libcurl loaded, and wait for a request. When this
/// boot's spec arrives, the boot log's registration with Coder (which the
/// agent waits for) and the agent binary's revalidation go out at once,
/// each to a worker that is ready, instead of each waiting for a process
/// to start: on a warm boot that start was most of the daemon's own time.
/// A worker taken is not replaced; the ones not taken are dismissed (they
/// read end-of-file and exit) once the daemon has sent READY=1.
public final class SpareFetchWorkers: Sendable {
    private let executable: String
    private let count: Int
    private let logger: Logger
    /// nil until `start()`; empty once dismissed.
    private let workers = Mutex<[StartedCommand]?>(nil)
    /// The longest line a spare takes: more than any call's answer or
    /// download's message (a request that could need more starts its own).
    static let lineLimit = 1024 * 1024 + FetchWorkerProcess.lineLimit

    /// `count` workers of `executable`, none started yet.
    public init(executable: String, count: Int = 2, logger: Logger) {
        self.executable = executable
        self.count = count
        self.logger = logger
    }

    /// Starts the workers, once and not after `dismiss()`. The daemon does
    /// it when its own start is done (on a warm boot, once what needs no
    /// secret is under way): loading libcurl, they would take the CPU from
    /// it on a small VM's busy boot.
    public func start() {
        workers.withLock { workers in
            guard workers == nil else { return }
            workers = (0..<count).map { _ in
                StartedCommand(
                    HostCommand([executable, "fetch-worker"], outputLimit: 4096), lineLimit: Self.lineLimit,
                    early: { [logger] line in logger.warning("fetch worker: \(line.prefix(500))", metadata: ["stage": "fetch-worker"]) })
            }
        }
    }

    /// A spare for one request, or nil when none is started or all are taken or dismissed.
    func take() -> StartedCommand? { workers.withLock { $0 ?? [] }.first { $0.take() } }

    /// Ends the spares not taken; none starts after this.
    public func dismiss() {
        let started = workers.withLock { workers in
            defer { workers = [] }
            return workers ?? []
        }
        for worker in started { worker.dismiss() }
    }
}
