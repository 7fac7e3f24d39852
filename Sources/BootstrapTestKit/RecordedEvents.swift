import Bootstrap
import Synchronization
import WorkspaceSpec

/// Keeps every event in the order recorded, and lets a test wait for one.
public final class RecordedEvents: ComponentEventSink, Sendable {
    public struct Entry: Sendable, Equatable {
        public var component: ComponentName
        public var event: ComponentEvent

        public init(component: ComponentName, event: ComponentEvent) {
            self.component = component
            self.event = event
        }
    }

    private struct State {
        var entries: [Entry] = []
        var waiters: [Waiter] = []
    }

    private struct Waiter {
        var predicate: @Sendable (Entry) -> Bool
        var occurrences: Int
        var continuation: CheckedContinuation<Void, Never>
    }

    private let state = Mutex(State())
    /// Also passed every event, e.g. a `StatusBoard`.
    private let forward: (any ComponentEventSink)?

    public init(forwardingTo forward: (any ComponentEventSink)? = nil) { self.forward = forward }

    public func record(_ event: ComponentEvent, for component: ComponentName) {
        forward?.record(event, for: component)
        let entry = Entry(component: component, event: event)
        let ready = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.entries.append(entry)
            let entries = state.entries
            let done = state.waiters.filter { waiter in entries.filter(waiter.predicate).count >= waiter.occurrences }
            state.waiters.removeAll { waiter in entries.filter(waiter.predicate).count >= waiter.occurrences }
            return done.map(\.continuation)
        }
        for continuation in ready { continuation.resume() }
    }

    public var entries: [Entry] { state.withLock { $0.entries } }

    public func events(of component: ComponentName) -> [ComponentEvent] {
        entries.filter { $0.component == component }.map(\.event)
    }

    /// Returns once `occurrences` events matching `predicate` have been
    /// recorded (at once if they were).
    public func wait(occurrences: Int = 1, for predicate: @escaping @Sendable (Entry) -> Bool) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let done = state.withLock { state -> Bool in
                if state.entries.filter(predicate).count >= occurrences { return true }
                state.waiters.append(Waiter(predicate: predicate, occurrences: occurrences, continuation: continuation))
                return false
            }
            if done { continuation.resume() }
        }
    }
}
