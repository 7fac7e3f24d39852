import HostSystem
import Logging
import SystemdSupport
import WorkspaceSpec

/// `coder-vm-bootstrap run`: from a valid spec, brings every component the
/// spec turns on up in parallel (each as soon as what it needs is ready),
/// keeps them healthy and reports to systemd, the readiness endpoint and
/// the status file until SIGTERM. Everything runs in one task tree: the
/// stop signal, the readiness endpoint, the watchdog and one supervisor per
/// component; every way out sends STOPPING=1 and writes the final status.
public struct Engine: Sendable {
    public var spec: WorkspaceSpec
    public var specPath: String?
    public var paths = Paths()
    public var policy = SupervisionPolicy()
    public var logger: Logger

    public init(spec: WorkspaceSpec, specPath: String?, logger: Logger) {
        self.spec = spec
        self.specPath = specPath
        self.logger = logger
    }

    public func run() async throws {
        let clock = ContinuousClock()
        let begin = clock.now
        let host = HostDetection.current()
        if let note = host.note { logger.warning("\(note)", metadata: ["stage": "host"]) }
        let notifier = Notifier()
        let board = StatusBoard(spec: spec, specPath: specPath, host: host, notifier: notifier, statusFile: paths.statusFile, logger: logger)
        defer { board.stopping() }
        let server = try ReadinessServer(port: spec.readiness.port, router: ReadinessRoutes.router(board))
        logger.info("readiness endpoint on port \(server.port)", metadata: ["stage": "start"])
        let units = try SystemdUnits()
        let liveness = Liveness(clock: clock)
        board.recordStage("prepare", begin.duration(to: clock.now))

        let caBundle = (spec.coder?.caCertificates.isEmpty ?? true) ? nil : paths.caBundle
        let downloads = DownloadService(spec: spec, extraCABundle: caBundle)
        // The boot log on Coder's workspace page hears every event after the board.
        let bootLog = CoderBootLog(spec: spec, network: downloads, status: { board.snapshot }, logger: logger)
        let events: any ComponentEventSink = bootLog.map { EventFanOut([board, $0]) } ?? board
        let components = ComponentCatalog.components(for: spec, host: host).map { bootLog?.guarding($0) ?? $0 }

        let stop = StopSignal()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await stop.wait() }
            group.addTask { await server.run() }
            if let interval = notifier.watchdogPingInterval {
                group.addTask { try await Self.watchdog(notifier, liveness: liveness, every: interval, logger: logger) }
            }
            group.addTask {
                // The boot log may end before the daemon: beside the supervisors, not a task of this group.
                await withDiscardingTaskGroup { work in
                    if let bootLog { work.addTask { await bootLog.run() } }
                    await Self.supervise(components, context: context(host: host, events: events, downloads: downloads),
                                         units: units, events: events, policy: policy, clock: clock, liveness: liveness)
                }
            }
            // The first task to end is the stop signal (or a fatal error).
            try await group.next()
            group.cancelAll()
        }
        logger.info("stopped", metadata: ["stage": "stop"])
    }

    /// One supervisor per component, all children of this call, until cancelled.
    public static func supervise<C: Clock>(
        _ components: [any Component], context: (any Component) -> ComponentContext, units: any UnitControl,
        events: any ComponentEventSink, policy: SupervisionPolicy, clock: C, liveness: Liveness<C>? = nil
    ) async where C.Duration == Duration {
        let gate = DependencyGate()
        await withDiscardingTaskGroup { group in
            for component in components {
                let supervisor = Supervisor(component: component, context: context(component), units: units, events: events,
                                            gate: gate, policy: policy, clock: clock, liveness: liveness)
                group.addTask { await supervisor.run() }
            }
        }
    }

    /// The context each component works in.
    func context(host: HostDetection, events: any ComponentEventSink, downloads: DownloadService) -> (any Component) -> ComponentContext {
        { component in
            var componentLogger = logger
            componentLogger[metadataKey: "component"] = .string(component.name.rawValue)
            return ComponentContext(spec: spec, host: host, paths: paths, logger: componentLogger, downloads: downloads,
                                    events: ComponentEvents(component.name, sink: events))
        }
    }

    /// WATCHDOG=1 at half of WatchdogSec=, but only while every supervisor
    /// keeps its promise to be heard from (see `Liveness`): a ping then
    /// means the supervision is alive, not merely that a timer fires.
    static func watchdog(_ notifier: Notifier, liveness: Liveness<ContinuousClock>, every interval: Duration, logger: Logger) async throws {
        var withheld = false
        while true {
            let overdue = liveness.overdue()
            if overdue.isEmpty {
                _ = try? notifier.send([.watchdog])
                withheld = false
            } else if !withheld {
                withheld = true
                logger.error("supervision of \(overdue.map(\.rawValue).joined(separator: ", ")) is stuck; withholding WATCHDOG=1 so systemd restarts the daemon",
                             metadata: ["stage": "watchdog"])
            }
            try await Task.sleep(for: interval)
        }
    }
}
