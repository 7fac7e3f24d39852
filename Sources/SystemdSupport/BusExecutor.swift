import Dispatch

/// A serial executor on its own dispatch queue, for actors whose methods
/// make blocking calls (sd-bus waits for replies in `poll(2)`).
///
/// Swift's cooperative pool has one thread per core (two on the VMs this
/// runs on); a D-Bus call that blocks for up to its timeout there would
/// stall health checks and the readiness endpoint. A serial
/// `DispatchQueue` targets dispatch's overcommit pool instead, which adds a
/// thread rather than wait for one, and runs one job at a time, which is
/// exactly the confinement an `sd_bus` needs.
final class BusExecutor: SerialExecutor {
    private let queue: DispatchQueue

    init(label: String) {
        queue = DispatchQueue(label: label)
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = asUnownedSerialExecutor()
        queue.async {
            job.runSynchronously(on: executor)
        }
    }

    func checkIsolated() {
        dispatchPrecondition(condition: .onQueue(queue))
    }
}
