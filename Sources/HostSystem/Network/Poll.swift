import Glibc

/// A descriptor that `Poll.wait` can watch, handed out by the socket types
/// of this layer (`ListeningSocket`, `StreamConnection`, `WakeUpEvent`)
/// without giving the number itself away.
public struct PollTarget: Sendable, Equatable {
    let descriptor: Int32
}

/// What poll(2) waits for and reports: `POLLIN`, `POLLOUT`, and the
/// conditions it reports whether asked or not (`POLLHUP`, `POLLERR`,
/// `POLLNVAL`).
public struct PollEvents: OptionSet, Sendable, Hashable {
    public let rawValue: Int16
    public init(rawValue: Int16) { self.rawValue = rawValue }

    public static let readable = PollEvents(rawValue: Int16(POLLIN))
    public static let writable = PollEvents(rawValue: Int16(POLLOUT))
    public static let hungUp = PollEvents(rawValue: Int16(POLLHUP))
    public static let failed = PollEvents(rawValue: Int16(POLLERR))
    public static let invalid = PollEvents(rawValue: Int16(POLLNVAL))
}

public enum Poll {
    /// poll(2): blocks until one of `targets` has what it asks for (or hung
    /// up or failed), or `timeout` has passed; nil waits without a timeout
    /// (no CPU until something happens). The timeout is rounded up to whole
    /// milliseconds, so a wait for a deadline never ends just before it.
    ///
    /// Returns what happened to each target, in order (empty for those not
    /// ready). A wait interrupted by a signal (EINTR) returns nothing ready:
    /// callers loop and work out the time left themselves.
    public static func wait(_ targets: [(PollTarget, PollEvents)], timeout: Duration?) throws(SystemError) -> [PollEvents] {
        var entries = targets.map { pollfd(fd: $0.0.descriptor, events: $0.1.rawValue, revents: 0) }
        let ready = poll(&entries, nfds_t(entries.count), timeout.map(milliseconds) ?? -1)
        if ready < 0 {
            guard errno == EINTR else { throw SystemError("poll", "\(entries.count) descriptors") }
            return Array(repeating: [], count: entries.count)
        }
        return entries.map { PollEvents(rawValue: $0.revents) }
    }

    /// Whole milliseconds, rounded up, within poll(2)'s range (0 for a time already past).
    static func milliseconds(_ duration: Duration) -> Int32 {
        guard duration > .zero else { return 0 }
        let (seconds, attoseconds) = duration.components
        let perMillisecond: Int64 = 1_000_000_000_000_000
        let whole = attoseconds / perMillisecond + (attoseconds % perMillisecond == 0 ? 0 : 1)
        let (total, overflow) = seconds.multipliedReportingOverflow(by: 1000)
        guard !overflow, total <= Int64(Int32.max) - whole else { return Int32.max }
        return Int32(total + whole)
    }
}
