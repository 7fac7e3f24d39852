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
        let job = Unmanaged.passRetained(
            ThreadJob {
                continuation.resume(returning: work())
            })
        var thread = pthread_t()
        let status = pthread_create(
            &thread, nil,
            { argument in
                let job = Unmanaged<ThreadJob>.fromOpaque(argument!).takeRetainedValue()
                job.body()
                return nil
            }, job.toOpaque())
        guard status == 0 else {
            // Out of threads: run here rather than fail; this blocks one
            // pool thread for the transfer but still completes it.
            job.takeRetainedValue().body()
            return
        }
        pthread_detach(thread)
    }
}

private final class ThreadJob {
    let body: () -> Void
    init(_ body: @escaping () -> Void) { self.body = body }
}
