#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Dispatch
import Glibc
import Logging
import Synchronization
import SystemdSupport
import WorkspaceSpec

/// `coder-vm-bootstrap run`: from a valid spec, prepares the host, brings
/// every enabled component up in parallel, keeps them healthy and reports
/// to systemd, the readiness endpoint and the status file until SIGTERM.
public struct Engine: Sendable {
    public var spec: WorkspaceSpec
    public var specPath: String?
    public var paths = Paths()
    public var policy = RestartPolicy()
    public var logger: Logger

    public init(spec: WorkspaceSpec, specPath: String?, logger: Logger) {
        self.spec = spec
        self.specPath = specPath
        self.logger = logger
    }

    /// The components this spec turns on, in start order.
    public static func components(for spec: WorkspaceSpec, distro: Distro?) -> [any Component] {
        var components: [any Component] = []
        if spec.ssh.enabled { components.append(SSHComponent(spec: spec, distro: distro)) }
        if spec.docker.enabled { components.append(DockerComponent(spec: spec)) }
        if spec.codeServer.enabled { components.append(CodeServerComponent(spec: spec)) }
        if let coder = spec.coder { components.append(CoderAgentComponent(spec: spec, coder: coder)) }
        return components
    }

    public func run() async throws {
        let host = HostDetection.current()
        if let note = host.note { logger.warning("\(note)", metadata: ["stage": "host"]) }
        let notifier = Notifier()
        let board = StatusBoard(spec: spec, specPath: specPath, host: host, notifier: notifier, statusFile: paths.statusFile)
        let server = try ReadinessServer(port: spec.readiness.port, router: Self.router(board))
        defer { server.stop() }
        logger.info("readiness endpoint on port \(server.port)", metadata: ["stage": "start"])

        let stop = StopSignal()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await stop.wait() }
            if let interval = notifier.watchdogPingInterval {
                group.addTask {
                    while true {
                        _ = try? notifier.send([.watchdog])
                        try await Task.sleep(for: interval)
                    }
                }
            }
            group.addTask { try await self.superviseAll(host: host, board: board) }
            // The first task to end is the stop signal (or a fatal error).
            try await group.next()
            group.cancelAll()
        }
        await board.stopping()
        logger.info("stopped", metadata: ["stage": "stop"])
    }

    private func superviseAll(host: HostDetection, board: StatusBoard) async throws {
        let components = Self.components(for: spec, distro: host.distro)
        let announce: @Sendable (String) -> Void = { line in
            Task { for component in components { await board.report(component.name, line) } }
        }
        announce("preparing the workspace user")
        let prepared = ContinuousClock.now
        let user = try await WorkspacePreparation(spec: spec, distro: host.distro, paths: paths).run(report: announce)
        logger.info("prepared user \(user.name)", metadata: [
            "stage": "prepare", "duration_ms": "\(StatusBoard.milliseconds(prepared.duration(to: .now)))"])

        let units = try UnitManager()
        let downloads = DownloadService(spec: spec, extraCABundle: (spec.coder?.caCertificates.isEmpty ?? true) ? nil : paths.caBundle)
        try await enableBaseServices(units: units, distro: host.distro)
        await withTaskGroup(of: Void.self) { group in
            for component in components {
                let name = component.name
                var componentLogger = logger
                componentLogger[metadataKey: "component"] = .string(name.rawValue)
                let context = ComponentContext(
                    spec: spec, distro: host.distro, user: user, paths: paths, logger: componentLogger, downloads: downloads,
                    report: { line in Task { await board.report(name, line) } })
                var supervisor = Supervisor(component: component, context: context, units: units, board: board, policy: policy)
                if let codeServer = component as? CodeServerComponent, !spec.codeServer.extensions.isEmpty {
                    supervisor.afterFirstReady = { await codeServer.installExtensions(context) }
                }
                group.addTask { await supervisor.run() }
            }
        }
    }

    /// ssh and docker start at boot by themselves from now on, even if this
    /// daemon is stopped; the template units are started by the daemon only.
    private func enableBaseServices(units: UnitManager, distro: Distro?) async throws {
        var files: [String] = []
        if spec.ssh.enabled { files.append("\(distro?.sshUnit ?? "sshd").service") }
        if spec.docker.enabled, DockerComponent.isInstalled { files += ["docker.socket", "docker.service"] }
        guard !files.isEmpty else { return }
        do { try await units.enable(unitFiles: files) } catch {
            logger.warning("could not enable \(files.joined(separator: " ")): \(error)", metadata: ["stage": "enable"])
        }
    }

    /// The three routes of the readiness endpoint; nothing secret is in the status.
    static func router(_ board: StatusBoard) -> ReadinessServer.Router {
        { path in
            let status = board.snapshot.withLock { $0 }
            switch path {
            case "/readyz":
                return status.isReady ? .init(status: 200, body: "ready\n") : .init(status: 503, body: "not ready: \(status.summary)\n")
            case "/livez":
                return .init(status: 200, body: "alive\n")
            case "/status":
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                encoder.dateEncodingStrategy = .iso8601
                let body = (try? encoder.encode(status)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
                return .init(status: 200, contentType: "application/json", body: body + "\n")
            default:
                return .init(status: 404, body: "not found: try /readyz, /livez or /status\n")
            }
        }
    }
}

/// SIGTERM/SIGINT delivered through Dispatch, awaited by the engine.
final class StopSignal: @unchecked Sendable {  // immutable after init
    private let sources: [DispatchSourceSignal]
    private let stream: AsyncStream<Void>

    init() {
        let (stream, continuation) = AsyncStream<Void>.makeStream()
        self.stream = stream
        sources = [SIGTERM, SIGINT].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { continuation.yield() }
            source.resume()
            return source
        }
    }

    func wait() async {
        for await _ in stream { return }
    }
}
