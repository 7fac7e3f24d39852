import HostSystem
import Logging
import WorkspaceSpec

/// One part of the workspace the daemon makes and keeps healthy. The engine
/// drives every component the same way (see `Supervisor`); adding one is a
/// new type in this folder, its spec section, and a line in
/// `ComponentCatalog`.
public protocol Component: Sendable {
    var name: ComponentName { get }
    /// Components that must be ready before this one converges; until then
    /// it is `pending`.
    var needs: Set<ComponentName> { get }
    /// Units that must be active before it converges, as `After=` and
    /// `Requires=` would order a unit. The daemon starts before cloud-init's
    /// init stage (`DefaultDependencies=no`, so that a warm boot brings
    /// code-server up at once); what that stage also configures (sshd and
    /// its host keys, packages) waits for `sysinit.target`, which
    /// cloud-init.service is ordered before.
    var afterUnits: [String] { get }
    /// Base units it enables while its unit first starts, so they start at
    /// boot even without the daemon (`ssh.service`, `docker.socket`).
    var bootUnits: [String] { get }
    /// The systemd unit that runs it, which the supervisor starts, probes and
    /// restarts; nil for a component that is done once converged (the user).
    var unit: String? { get }
    /// It uses this boot's secrets (the agent token): it starts only from
    /// this boot's spec, never from the last boot's (see `LastBootSpec`).
    var usesSecrets: Bool { get }

    /// Makes the machine match the spec. Idempotent and safe after a crash
    /// halfway. Returns whether something the running unit uses changed (so
    /// it is restarted). Throw `ComponentError` to say whose fault a failure
    /// is (see `ComponentError.Kind`).
    func converge(_ context: ComponentContext) async throws -> Bool

    /// A real probe (a banner, an HTTP status), not "the process exists".
    func probe() async -> ProbeResult

    /// The start of converging that needs neither `needs` nor `afterUnits`:
    /// downloads into root's own folders (code-server's release, the
    /// agent's binary, whose check as the user waits for `needsReady`).
    /// The supervisor starts it beside those waits and converges once it is
    /// over, so a first boot's downloads do not wait for `useradd`; that
    /// converge has `followsPrefetch` set. Returns whether something the
    /// running unit uses changed, as `converge` does; what it throws is
    /// converge's first failure, reported and retried as such.
    func prefetch(_ context: ComponentContext, needsReady: NeedsReady) async throws -> Bool

    /// Work that follows the first healthy probe and must not delay
    /// readiness (code-server's extensions).
    func afterReady(_ context: ComponentContext) async

    /// What the unit's `ExecStartPre=` runs (`coder-vm-bootstrap prepare-start
    /// NAME USER`) before every start of the program, systemd's own restarts
    /// included. It must never keep a program that is there from starting.
    func prepareStart(_ context: ComponentContext) async throws
}

extension Component {
    public var needs: Set<ComponentName> { [] }
    public var bootUnits: [String] { [] }
    public var afterUnits: [String] { [] }
    public var usesSecrets: Bool { false }
    public func prefetch(_ context: ComponentContext, needsReady: NeedsReady) async throws -> Bool { false }
    public func afterReady(_ context: ComponentContext) async {}
    public func prepareStart(_ context: ComponentContext) async throws {}
}

public enum ProbeResult: Equatable, Sendable {
    case healthy
    case unhealthy(String)
}

/// What a component gets to work with.
public struct ComponentContext: Sendable {
    public var spec: WorkspaceSpec
    public var host: HostDetection
    public var paths: Paths
    public var logger: Logger
    public var downloads: DownloadService
    /// Where the component tells what it is doing.
    public var events: ComponentEvents
    /// This converge follows the component's prefetch, which just
    /// succeeded: what it did need not be done again.
    public var followsPrefetch = false

    public init(
        spec: WorkspaceSpec, host: HostDetection, paths: Paths, logger: Logger, downloads: DownloadService,
        events: ComponentEvents
    ) {
        self.spec = spec
        self.host = host
        self.paths = paths
        self.logger = logger
        self.downloads = downloads
        self.events = events
    }

    public var distro: Distro? { host.distro }

    /// One line on what the component is doing now ("writing authorized keys").
    public func report(_ line: String) { events.report(line) }

    /// The workspace user as the system knows it now, for components that
    /// list `.user` in `needs` (getpwnam(3) each time: it is cheap and never stale).
    public func workspaceUser() throws -> UserIdentity {
        guard let user = UserIdentity.lookup(spec.user.name) else {
            throw ComponentError(.configuration, "the workspace user \(spec.user.name) does not exist")
        }
        return user
    }
}

/// A component's own events, bound to its name.
public struct ComponentEvents: Sendable {
    public let component: ComponentName
    let sink: any ComponentEventSink

    public init(_ component: ComponentName, sink: any ComponentEventSink) {
        self.component = component
        self.sink = sink
    }

    public func report(_ line: String) { sink.record(.progress(line), for: component) }
    public func progress(_ progress: ComponentProgress) { sink.record(.downloadProgress(progress), for: component) }
    public func download(_ event: DownloadEvent) { sink.record(.download(event), for: component) }
}

/// A component could not be converged: what went wrong, what to do, and
/// whose fault it is, which decides what the supervisor does next.
public struct ComponentError: Error, CustomStringConvertible, Sendable {
    public enum Kind: Sendable, Equatable {
        /// A server or the network (a 503, a cut body, an HTML page for a
        /// binary, Coder down at boot): retried with capped backoff, never
        /// spending the restart budget meant for programs that crash.
        case server
        /// Something on this machine that may clear by itself (a full disk,
        /// a package manager's lock held by another process): retried with
        /// backoff like a server fault.
        case local
        /// The spec or the image asks for something that cannot work (a
        /// checksum that does not match, an sshd config sshd rejects, a user
        /// name taken by a group): reported as failed and tried again only
        /// after the cooldown, never in a loop.
        case configuration
    }

    public var kind: Kind
    public var description: String

    public init(_ kind: Kind, _ description: String) {
        self.kind = kind
        self.description = description
    }
}
