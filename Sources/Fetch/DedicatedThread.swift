// curl_easy_perform blocks for the whole transfer. Running it on a thread of
// its own keeps Swift's cooperative pool (two threads on a 2-vCPU VM) free,
// so several downloads and the rest of the daemon proceed together.
#if canImport(Glibc)
import Glibc
#endif

/// Runs `work` on a new detached pthread and resumes the caller with its
/// result. Cancellation is the work's business (see Transfer.cancel()).
/// The daemon's probes and readiness endpoint use it too: they block in
/// system calls as well.
public func runOnDedicatedThread<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { continuation in
        let status = startDetachedThread { continuation.resume(returning: work()) }
        if status != 0 {
            // Out of threads: run here rather than fail; this blocks one
            // pool thread for the transfer but still completes it.
            continuation.resume(returning: work())
        }
    }
}

/// Runs `body` on a new detached thread; wraps pthread_create(3) and
/// pthread_detach(3). Returns pthread_create's status: 0, or the error
/// number when no thread was started (then `body` never runs).
func startDetachedThread(_ body: @escaping () -> Void) -> Int32 {
    let job = Unmanaged.passRetained(ThreadJob(body))
    var thread = pthread_t()
    let status = pthread_create(
        &thread, nil,
        { argument in
            let job = Unmanaged<ThreadJob>.fromOpaque(argument!).takeRetainedValue()
            job.body()
            return nil
        }, job.toOpaque())
    guard status == 0 else {
        job.release()
        return status
    }
    pthread_detach(thread)
    return 0
}

private final class ThreadJob {
    let body: () -> Void
    init(_ body: @escaping () -> Void) { self.body = body }
}
