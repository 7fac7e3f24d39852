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

    private let standings = Mutex([ComponentName: Standing]())
    private let changed = ChangeSignal()

    public init() {}

    public func set(_ name: ComponentName, _ standing: Standing) {
        let isNew = standings.withLock { standings in
            guard standings[name] != standing else { return false }
            standings[name] = standing
            return true
        }
        if isNew { changed.bump() }
    }

    /// The standing of each of `names` now, and the version to wait past.
    public func standings(of names: Set<ComponentName>) -> (standings: [ComponentName: Standing], version: Int) {
        // The version first: a change made while the standings are read then wakes the next wait.
        let version = changed.version
        let now = standings.withLock { standings in
            Dictionary(uniqueKeysWithValues: names.map { ($0, standings[$0] ?? .notReady) })
        }
        return (now, version)
    }

    /// Returns once something changed after `version`, or the task is cancelled.
    public func change(after version: Int) async {
        await changed.change(after: version)
    }

    /// Returns once every one of `names` is ready.
    /// - Throws: CancellationError when cancelled first.
    public func ready(_ names: Set<ComponentName>) async throws {
        while true {
            let (now, version) = standings(of: names)
            if now.values.allSatisfy({ $0 == .ready }) { return }
            await change(after: version)
            try Task.checkCancellation()
        }
    }
}
