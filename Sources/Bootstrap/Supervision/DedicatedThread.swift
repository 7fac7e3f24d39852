import Glibc

/// A detached OS thread for work that blocks in a system call (accept(2)),
/// so it never occupies one of the few threads of Swift's cooperative pool.
enum DedicatedThread {
    /// Starts `body` on a new detached thread (pthread_create).
    static func start(name: String, _ body: @escaping @Sendable () -> Void) {
        let box = Unmanaged.passRetained(Box(body)).toOpaque()
        var thread = pthread_t()
        let result = pthread_create(&thread, nil, { raw in
            let box = Unmanaged<Box>.fromOpaque(raw!).takeRetainedValue()
            box.body()
            return nil
        }, box)
        precondition(result == 0, "pthread_create failed for \(name): \(result)")
        pthread_detach(thread)
    }

    private final class Box {
        let body: @Sendable () -> Void
        init(_ body: @escaping @Sendable () -> Void) { self.body = body }
    }
}
