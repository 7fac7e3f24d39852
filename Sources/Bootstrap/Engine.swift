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
    /// `spec` is the last boot's (without its token, see `LastBootSpec`):
    /// this boot's is still to come from cloud-init. What needs no secret
    /// starts from the last boot's at once; the rest when this boot's arrives.
    public var bootSpecPending = false
    /// Stages before the engine (the process start, reading the spec), for `status`.
    public var earlierStages: [(String, Duration)] = []
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
        // The boot log's first call and the agent binary's revalidation are on the way to READY=1; with
        // this boot's spec from the start (a first boot), so is code-server's download, which takes the
        // first (with two, the agent's waited for a worker to start: 130-212 ms after the spec, not 85-120).
        let spares =
            spec.coder == nil
            ? nil : SpareFetchWorkers(executable: DownloadService.Runner.ownExecutablePath, count: bootSpecPending ? 2 : 3, logger: logger)
        let board = StatusBoard(
            spec: spec, specPath: specPath, host: host, notifier: notifier, statusFile: paths.statusFile, logger: logger,
            readySent: { [logger] in
                spares?.dismiss()
                Self.dropStartUpCode(logger: logger)
            })
        defer {
            spares?.dismiss()
            board.stopping()
        }
        for (stage, duration) in earlierStages { board.recordStage(stage, duration) }
        if !bootSpecPending { saveForTheNextBoot(spec) }
        let server = try ReadinessServer(port: spec.readiness.port, router: ReadinessRoutes.router(board))
        logger.info("readiness endpoint on port \(server.port)", metadata: ["stage": "start"])
        let units = try SystemdUnits()
        let liveness = Liveness(clock: clock)
        board.recordStage("prepare", begin.duration(to: clock.now))
        if !bootSpecPending { spares?.start() }

        let stop = StopSignal()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await stop.wait() }
            group.addTask { await server.run() }
            if let interval = notifier.watchdogPingInterval {
                group.addTask { try await Self.watchdog(notifier, liveness: liveness, every: interval, logger: logger) }
            }
            group.addTask {
                var spec = self.spec
                if bootSpecPending {
                    spec = try await superviseUntilTheBootSpecArrives(
                        host: host, board: board, units: units, clock: clock, liveness: liveness, spares: spares)
                }
                // The boot log on Coder's workspace page hears every event after the board. It needs this
                // boot's token, so it starts with this boot's spec; it may end before the daemon does.
                let bootLog = CoderBootLog(spec: spec, network: downloads(for: spec, spares: spares), status: { board.snapshot }, logger: logger)
                let events: any ComponentEventSink = bootLog.map { EventFanOut([board, $0]) } ?? board
                let components = ComponentCatalog.components(for: spec, host: host).map { bootLog?.guarding($0) ?? $0 }
                await withDiscardingTaskGroup { work in
                    if let bootLog {
                        work.addTask {
                            await bootLog.run()
                            // It runs on after READY=1 (see CoderBootLog), touching code the supervision does not.
                            if !Task.isCancelled, board.hasSentReady { Self.dropStartUpCode(logger: logger) }
                        }
                    }
                    await Self.supervise(
                        components, context: context(spec, host: host, events: events, spares: spares),
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
                let supervisor = Supervisor(
                    component: component, context: context(component), units: units, events: events,
                    gate: gate, policy: policy, clock: clock, liveness: liveness)
                group.addTask { await supervisor.run() }
            }
        }
    }

    /// Supervises what needs no secret from the last boot's spec until this
    /// boot's arrives; then returns it (validated) for the supervision to go
    /// on with. Converging is idempotent, so what already runs and did not
    /// change is not restarted.
    private func superviseUntilTheBootSpecArrives(
        host: HostDetection, board: StatusBoard, units: any UnitControl,
        clock: ContinuousClock, liveness: Liveness<ContinuousClock>, spares: SpareFetchWorkers?
    ) async throws -> WorkspaceSpec {
        let components = ComponentCatalog.components(for: spec, host: host)
        for component in components where component.usesSecrets {
            board.record(.progress("waiting for this boot's spec from cloud-init (it carries the token)"), for: component.name)
        }
        let path = SpecFile.searchPaths[0]
        let waiting = clock.now
        let arrived = try await withThrowingTaskGroup(of: WorkspaceSpec?.self) { group in
            group.addTask {
                await Self.supervise(
                    components.filter { !$0.usesSecrets }, context: context(spec, host: host, events: board, spares: spares),
                    units: units, events: board, policy: policy, clock: clock, liveness: liveness)
                return nil
            }
            group.addTask {
                try await BootSpecArrival.wait(for: path)
                return try SpecFile.load(path: path)
            }
            // After what needs no secret is under way: the workers are for
            // this boot's spec, still to come.
            spares?.start()
            defer { group.cancelAll() }
            while let next = try await group.next() {
                if let spec = next { return spec }
            }
            throw CancellationError()
        }
        logger.info("this boot's spec arrived at \(path)", metadata: ["stage": "spec"])
        board.adopt(arrived, specPath: path)
        // A wait on cloud-init, not the daemon's own time (the benchmark tells them apart).
        board.recordStage("boot-spec", waiting.duration(to: clock.now))
        saveForTheNextBoot(arrived)
        return arrived
    }

    private func saveForTheNextBoot(_ spec: WorkspaceSpec) {
        do { try LastBootSpec.save(spec, paths: paths) } catch {
            logger.warning("cannot keep the spec for the next boot: \(error)", metadata: ["stage": "spec"])
        }
    }

    /// The context each component works in.
    func context(
        _ spec: WorkspaceSpec, host: HostDetection, events: any ComponentEventSink, spares: SpareFetchWorkers?
    ) -> (any Component) -> ComponentContext {
        let downloads = downloads(for: spec, spares: spares)
        return { component in
            var componentLogger = logger
            componentLogger[metadataKey: "component"] = .string(component.name.rawValue)
            return ComponentContext(
                spec: spec, host: host, paths: paths, logger: componentLogger, downloads: downloads,
                events: ComponentEvents(component.name, sink: events))
        }
    }

    /// Downloads with the spec's extra CA certificates and proxy.
    func downloads(for spec: WorkspaceSpec, spares: SpareFetchWorkers?) -> DownloadService {
        var service = DownloadService(spec: spec, extraCABundle: (spec.coder?.caCertificates.isEmpty ?? true) ? nil : paths.caBundle)
        service.spares = spares
        return service
    }

    /// Once READY=1 is sent, and again once the boot log has ended after it,
    /// most of the daemon's code and its libraries' (spec parsing, user
    /// preparation, converging, the boot log) has run for the last time:
    /// its pages leave the resident set with the read-only data the loader
    /// read once (they stay in the page cache, see `ProgramCode`), and so
    /// do the free pages the allocator kept from that work
    /// (`FreeHeapPages`); what the supervision touches again comes back.
    static func dropStartUpCode(logger: Logger) {
        FreeHeapPages.release()
        do {
            let bytes = try ProgramCode.dropResidentPages()
            logger.info(
                "the daemon's and its libraries' code and read-only data (\(bytes / 1024) KiB mapped) left the resident set; their pages stay in the page cache",
                metadata: ["stage": "ready"])
        } catch {
            logger.warning("could not drop the start-up code from the resident set: \(error)", metadata: ["stage": "ready"])
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
                logger.error(
                    "supervision of \(overdue.map(\.rawValue).joined(separator: ", ")) is stuck; withholding WATCHDOG=1 so systemd restarts the daemon",
                    metadata: ["stage": "watchdog"])
            }
            try await Task.sleep(for: interval)
        }
    }
}
