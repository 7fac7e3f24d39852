import CLinuxExtensions
import Glibc

/// Wakes a thread blocked in `Poll.wait` from any other thread (or a task's
/// cancellation handler): an eventfd(2) counter that is readable once
/// signalled, and stays so, so a signal given before the wait began is not
/// lost.
public final class WakeUpEvent: Sendable {  // the descriptor never changes; eventfd reads and writes are thread-safe
    let descriptor: Int32

    /// eventfd(2) with `EFD_NONBLOCK | EFD_CLOEXEC`, starting at 0 (not signalled).
    public init() throws(SystemError) {
        let fd = eventfd(0, Int32(EFD_NONBLOCK) | Int32(EFD_CLOEXEC))
        guard fd >= 0 else { throw SystemError("create", "an eventfd") }
        descriptor = fd
    }

    /// close(2)
    deinit { close(descriptor) }

    /// Readable once `signal()` has been called.
    public var pollTarget: PollTarget { PollTarget(descriptor: descriptor) }

    /// eventfd_write(3): adds 1 to the counter, making it readable. Never
    /// blocks (the counter cannot overflow from signals that are counted
    /// one by one); safe from any thread.
    public func signal() {
        _ = eventfd_write(descriptor, 1)
    }
}
