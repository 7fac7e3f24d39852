import Synchronization

/// A clock whose time moves only when someone sleeps on it: `sleep(until:)`
/// returns at once and sets the time to the deadline. One supervisor on it
/// runs through minutes of backoff and cooldown in microseconds, and the
/// same way every time.
public final class VirtualClock: Clock, Sendable {
    public struct Instant: InstantProtocol, Sendable {
        public var offset: Duration
        public func advanced(by duration: Duration) -> Instant { Instant(offset: offset + duration) }
        public func duration(to other: Instant) -> Duration { other.offset - offset }
        public static func < (lhs: Instant, rhs: Instant) -> Bool { lhs.offset < rhs.offset }
    }

    private let time = Mutex(Instant(offset: .zero))

    public init() {}

    public var now: Instant { time.withLock { $0 } }
    public var minimumResolution: Duration { .nanoseconds(1) }

    public func sleep(until deadline: Instant, tolerance: Duration?) async throws {
        try Task.checkCancellation()
        time.withLock { $0 = max($0, deadline) }
        // Let other tasks (a test waiting for an event) run between steps.
        await Task.yield()
        try Task.checkCancellation()
    }

    /// Moves time forward without anyone sleeping.
    public func advance(by duration: Duration) {
        time.withLock { $0 = $0.advanced(by: duration) }
    }
}
