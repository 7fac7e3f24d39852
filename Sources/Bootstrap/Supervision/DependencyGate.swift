import Synchronization
import WorkspaceSpec

/// Where components wait for the ones they need: each supervisor says when
/// its component is ready or failed; a dependent waits for a change.
public final class DependencyGate: Sendable {
    public enum Standing: Sendable, Equatable {
        case notReady
        case ready
        case failed(String)
    }

    private struct State {
        var standings: [ComponentName: Standing] = [:]
        var version = 0
        var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
        var nextWaiter = 0
    }

    private let state = Mutex(State())

    public init() {}

    public func set(_ name: ComponentName, _ standing: Standing) {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            guard state.standings[name] != standing else { return [] }
            state.standings[name] = standing
            state.version += 1
            defer { state.waiters.removeAll() }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.resume() }
    }

    /// The standing of each of `names` now, and the version to wait past.
    public func standings(of names: Set<ComponentName>) -> (standings: [ComponentName: Standing], version: Int) {
        state.withLock { state in
            (Dictionary(uniqueKeysWithValues: names.map { ($0, state.standings[$0] ?? .notReady) }), state.version)
        }
    }

    /// Returns once something changed after `version`, or the task is cancelled.
    public func change(after version: Int) async {
        let id = state.withLock { state -> Int in
            state.nextWaiter += 1
            return state.nextWaiter
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { state -> Bool in
                    if state.version != version || Task.isCancelled { return true }
                    state.waiters[id] = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { $0.waiters.removeValue(forKey: id) }
            waiter?.resume()
        }
    }
}
