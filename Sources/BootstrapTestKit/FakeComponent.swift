import Bootstrap
import Synchronization
import WorkspaceSpec

/// A component whose converge outcomes a test scripts and whose probe asks
/// the fake units whether its program serves.
public final class FakeComponent<C: Clock>: Component, Sendable where C.Duration == Duration {
    public enum Outcome: Sendable {
        case converged(changed: Bool)
        case fails(ComponentError)
    }

    public let name: ComponentName
    public let unit: String?
    public let needs: Set<ComponentName>
    public let bootUnits: [String]
    public let afterUnits: [String]
    private let units: FakeUnits<C>
    private let prefetchWork: (@Sendable (ComponentContext, NeedsReady) async throws -> Bool)?
    private let outcomes: Mutex<[Outcome]>
    private let convergeCount = Mutex(0)
    private let convergesAfterPrefetch = Mutex(0)
    private let afterReadyCount = Mutex(0)

    public init(
        _ name: ComponentName, unit: String?, needs: Set<ComponentName> = [], bootUnits: [String] = [],
        afterUnits: [String] = [], units: FakeUnits<C>, outcomes: [Outcome] = [.converged(changed: false)],
        prefetch: (@Sendable (ComponentContext, NeedsReady) async throws -> Bool)? = nil
    ) {
        self.prefetchWork = prefetch
        self.name = name
        self.unit = unit
        self.needs = needs
        self.bootUnits = bootUnits
        self.afterUnits = afterUnits
        self.units = units
        self.outcomes = Mutex(outcomes)
    }

    /// Each converge takes the next outcome; the last one repeats.
    public func converge(_ context: ComponentContext) async throws -> Bool {
        convergeCount.withLock { $0 += 1 }
        if context.followsPrefetch { convergesAfterPrefetch.withLock { $0 += 1 } }
        let outcome = outcomes.withLock { $0.count > 1 ? $0.removeFirst() : $0[0] }
        switch outcome {
        case .converged(let changed): return changed
        case .fails(let error): throw error
        }
    }

    public func prefetch(_ context: ComponentContext, needsReady: NeedsReady) async throws -> Bool {
        try await prefetchWork?(context, needsReady) ?? false
    }

    public func probe() async -> ProbeResult {
        guard let unit else { return .healthy }
        return units.isServing(unit) ? .healthy : .unhealthy("\(unit) does not answer")
    }

    public func afterReady(_ context: ComponentContext) async { afterReadyCount.withLock { $0 += 1 } }

    public var converges: Int { convergeCount.withLock { $0 } }
    /// Of `converges`, those told they follow the prefetch.
    public var convergesFollowingPrefetch: Int { convergesAfterPrefetch.withLock { $0 } }
    public var afterReadyRuns: Int { afterReadyCount.withLock { $0 } }
}

extension ComponentContext {
    /// A context for components under test: a throwaway layout below `root`.
    public static func testing(_ name: ComponentName, events: any ComponentEventSink, root: String = "/nonexistent") -> ComponentContext {
        let spec = WorkspaceSpec(workspace: .init(owner: "alice", name: "dev", id: "1"), user: .init(name: "coder"))
        return ComponentContext(
            spec: spec, host: HostDetection(OSRelease(fields: ["ID": "debian", "VERSION_ID": "12"])),
            paths: Paths(root: root), logger: .init(label: "test"),
            downloads: DownloadService(spec: spec, extraCABundle: nil), events: ComponentEvents(name, sink: events))
    }
}
