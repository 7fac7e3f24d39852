import HostSystem
import Logging
import Synchronization
import SystemdSupport
import WorkspaceSpec

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The one place events become status. Each event changes the workspace's
/// status and is published to every audience at once, in the order it was
/// recorded: systemd (STATUS=, READY=1, EXTEND_TIMEOUT_USEC=), the status
/// file `coder-vm-bootstrap status` reads, the readiness endpoint's
/// snapshot, and a journal entry with the event's MESSAGE_ID.
public final class StatusBoard: ComponentEventSink, Sendable {
    private struct State {
        var status: WorkspaceStatus
        var sentReady = false
        /// When each component last began converging, for the journal's DURATION_MS.
        var convergingSince: [ComponentName: ContinuousClock.Instant] = [:]
    }

    private let state: Mutex<State>
    private let notifier: Notifier
    private let logger: Logger
    private let statusFolder: Directory?
    private let statusName: String
    private let started = ContinuousClock.now
    /// Called once, right after READY=1 went to systemd (outside the board's lock).
    private let readySent: @Sendable () -> Void

    /// How long the start may go on without any progress report.
    public static let startProgressAllowance: Duration = .seconds(300)

    public init(
        spec: WorkspaceSpec, specPath: String?, host: HostDetection, notifier: Notifier, statusFile: String, logger: Logger,
        readySent: @escaping @Sendable () -> Void = {}
    ) {
        let required = spec.requiredComponents
        let enabled = Set(spec.enabledComponents)
        let now = Date()
        let components = ComponentName.allCases.map { name in
            var component = ComponentStatus(name: name, state: enabled.contains(name) ? .pending : .disabled, required: required.contains(name))
            component.since = now
            return component
        }
        let status = WorkspaceStatus(
            phase: .starting, summary: "starting", components: components, daemonPID: Machine.processID,
            daemonVersion: BuildInfo.version, startedAt: now, updatedAt: now, specPath: specPath,
            host: host.osRelease.prettyName, notes: host.note.map { [$0] } ?? [])
        state = Mutex(State(status: status))
        self.notifier = notifier
        self.logger = logger
        self.readySent = readySent
        let file = FilePathParts(statusFile)
        statusFolder = try? Directory.system(file.directory, creating: .init())
        statusName = file.name
    }

    /// The status now (the readiness endpoint reads it from its own thread).
    public var snapshot: WorkspaceStatus { state.withLock { $0.status } }

    /// Whether READY=1 has gone to systemd.
    public var hasSentReady: Bool { state.withLock { $0.sentReady } }

    public func record(_ event: ComponentEvent, for name: ComponentName) {
        var journal: [JournalEntry] = []
        let sentReady = state.withLock { state -> Bool in
            guard let index = state.status.components.firstIndex(where: { $0.name == name }) else { return false }
            var component = state.status.components[index]
            let before = component.state
            if event == .converging { state.convergingSince[name] = .now }
            Self.apply(event, to: &component, journal: &journal)
            if case .healthy = event, let since = state.convergingSince[name] {
                journal[journal.count - 1].metadata["duration_ms"] = "\(since.duration(to: .now).milliseconds)"
            }
            if component.state != before { component.since = Date() }
            if component.state == .ready, component.readyAfterMilliseconds == nil { component.readyAfterMilliseconds = elapsedMilliseconds }
            state.status.components[index] = component
            return publish(&state, journal: &journal, progress: event.isProgress)
        }
        for entry in journal { entry.log(to: logger, component: name) }
        if sentReady { readySent() }
    }

    /// This boot's spec replaces the last boot's (a warm boot): which
    /// components are enabled and required follows it.
    public func adopt(_ spec: WorkspaceSpec, specPath: String) {
        let required = spec.requiredComponents
        let enabled = Set(spec.enabledComponents)
        var journal: [JournalEntry] = []
        let sentReady = state.withLock { state -> Bool in
            state.status.specPath = specPath
            for index in state.status.components.indices {
                let name = state.status.components[index].name
                state.status.components[index].required = required.contains(name)
                if !enabled.contains(name) {
                    state.status.components[index].state = .disabled
                } else if state.status.components[index].state == .disabled {
                    state.status.components[index].state = .pending
                }
            }
            return publish(&state, journal: &journal, progress: true)
        }
        for entry in journal { entry.log(to: logger, component: .user) }
        if sentReady { readySent() }
    }

    /// A stage of the daemon's own (spec read, host detection), for `status`.
    public func recordStage(_ stage: String, _ duration: Duration) {
        state.withLock { state in
            state.status.stages = (state.status.stages ?? []) + [StageTiming(stage: stage, milliseconds: duration.milliseconds)]
            writeStatusFile(state.status)
        }
    }

    /// STOPPING=1 and the final status, on every way out of `run`.
    public func stopping() {
        state.withLock { state in
            state.status.phase = .stopping
            state.status.summary = "stopping"
            state.status.updatedAt = Date()
            writeStatusFile(state.status)
        }
        _ = try? notifier.send([.stopping, .status("stopping")])
    }

    var elapsedMilliseconds: Int { started.duration(to: .now).milliseconds }

    // MARK: Events

    private static func apply(_ event: ComponentEvent, to component: inout ComponentStatus, journal: inout [JournalEntry]) {
        switch event {
        case .pending(let waitingFor):
            component.state = .pending
            component.detail = "waiting for \(waitingFor.map(\.rawValue).joined(separator: ", "))"
        case .blocked(let by, let reason):
            component.state = .blocked
            component.detail = "waiting for \(by.rawValue), which failed"
            journal.append(.init(.warning, "blocked: \(by.rawValue) failed: \(reason)", .componentBlocked))
        case .converging:
            component.state = .converging
            component.detail = "converging"
        case .progress(let line):
            component.detail = line
            journal.append(.init(.info, line, nil, stage: "converge"))
        case .downloadProgress(let progress):
            component.progress = progress
            component.detail = progress.line
        case .download(let download):
            switch download {
            case .started(let what, let url):
                component.progress = nil
                journal.append(.init(.info, "downloading \(what) from \(url)", .downloadStarted, stage: "download"))
            case .finished(let what, let url, let bytes, let notModified, let duration):
                component.progress = nil
                let how = notModified ? "is current (304 Not Modified)" : "downloaded, \(bytes) bytes"
                journal.append(
                    .init(
                        .info, "\(what) from \(url) \(how)", .downloadFinished, stage: "download",
                        extra: ["duration_ms": "\(duration.milliseconds)", "bytes": "\(bytes)"]))
            case .failed(let what, let url, let error):
                component.progress = nil
                journal.append(.init(.warning, "downloading \(what) from \(url) failed: \(error)", .downloadFailed, stage: "download"))
            }
        case .waiting(let reason, let retryIn, let attempt):
            component.state = .converging
            component.lastError = reason
            component.detail = "waiting: \(reason); attempt \(attempt), next in \(retryIn.wholeSecondsRoundedUp) s"
            journal.append(.init(.warning, "\(reason); trying again in \(retryIn.wholeSecondsRoundedUp) s (attempt \(attempt))", .componentWaiting))
        case .stage(let stage, let duration):
            component.stages.removeAll { $0.stage == stage }
            component.stages.append(StageTiming(stage: stage, milliseconds: duration.milliseconds))
        case .started(let unit):
            component.state = .starting
            component.detail = "starting \(unit)"
        case .healthy(let first):
            component.state = .ready
            component.detail = nil
            component.lastError = nil
            component.progress = nil
            component.journalTail = nil
            journal.append(
                .init(
                    .info, first ? "\(component.name.rawValue) is ready" : "\(component.name.rawValue) is healthy again",
                    .componentReady, stage: "ready"))
        case .unhealthy(let reason, let failures, let threshold):
            component.state = .unhealthy
            component.detail = "probe failed \(failures) of \(threshold) times: \(reason)"
            journal.append(.init(.warning, "probe failed (\(failures) of \(threshold)): \(reason)", .componentUnhealthy, stage: "supervise"))
        case .restarting(let reason, let after, let restart, let budget):
            component.state = .restarting
            component.lastError = reason
            component.detail = "restarting in \(after.wholeSecondsRoundedUp) s (restart \(restart) of \(budget) allowed)"
            journal.append(
                .init(
                    .notice, "\(reason); restarting in \(after.wholeSecondsRoundedUp) s (restart \(restart) of \(budget) allowed)",
                    nil, stage: "restart"))
        case .restarted(let bySystemd, let count):
            component.restarts += count
            journal.append(
                .init(
                    .notice, bySystemd ? "systemd restarted it \(count) time(s)" : "restarted",
                    .componentRestarted, stage: "restart"))
        case .failed(let lastError, let tail, let retryIn):
            component.state = .failed
            component.lastError = lastError
            component.journalTail = tail
            component.progress = nil
            component.detail = "trying again in \(retryIn.wholeSecondsRoundedUp) s"
            journal.append(.init(.error, "failed: \(lastError); trying again in \(retryIn.wholeSecondsRoundedUp) s", .componentFailed, stage: "supervise"))
        }
    }

    // MARK: Publishing

    /// Returns whether this sent READY=1.
    private func publish(_ state: inout State, journal: inout [JournalEntry], progress: Bool) -> Bool {
        let previous = state.status.phase
        state.status.phase = WorkspaceStatus.phase(of: state.status.components)
        state.status.summary = StatusSummary.line(for: state.status)
        state.status.updatedAt = Date()
        if state.status.isReady, state.status.readyAfterMilliseconds == nil { state.status.readyAfterMilliseconds = elapsedMilliseconds }
        if state.status.phase != previous {
            switch state.status.phase {
            case .ready: journal.append(.init(.info, "workspace ready after \(elapsedMilliseconds) ms", .workspaceReady, workspace: true))
            case .degraded, .failed:
                journal.append(
                    .init(
                        .warning, "workspace \(state.status.phase.rawValue): \(state.status.summary)",
                        .workspaceDegraded, workspace: true))
            case .starting, .stopping: break
            }
        }
        writeStatusFile(state.status)
        var messages: [Notifier.State] = [.status(state.status.summary)]
        // READY=1 once everything required is healthy, or once it is clear it
        // will not be (failed): the daemon is then up and reporting, and the
        // boot must not wait on it for its whole start timeout.
        let sendsReady = !state.sentReady && (state.status.isReady || state.status.phase == .failed)
        if sendsReady {
            state.sentReady = true
            messages.append(.ready)
        } else if !state.sentReady, progress {
            // Progress buys time: the unit's TimeoutStartSec counts from the
            // last report, so a slow download is not killed, a stall is.
            messages.append(.extendTimeout(Self.startProgressAllowance))
        }
        _ = try? notifier.send(messages)
        return sendsReady
    }

    private func writeStatusFile(_ status: WorkspaceStatus) {
        guard let statusFolder, let data = try? StatusEncoding.json(status) else { return }
        _ = try? statusFolder.writeFile(statusName, data + [10], mode: 0o644)
    }
}

/// One journal entry an event produced, logged after the board's lock is released.
private struct JournalEntry {
    var level: Logger.Level
    var message: String
    var id: MessageID?
    var metadata: Logger.Metadata

    init(
        _ level: Logger.Level, _ message: String, _ id: MessageID?, stage: String? = nil, workspace: Bool = false,
        extra: Logger.Metadata = [:]
    ) {
        self.level = level
        self.message = message
        self.id = id
        var metadata = extra
        if let stage { metadata["stage"] = .string(stage) }
        if let id { metadata[MessageID.metadataKey] = .messageID(id) }
        if workspace { metadata["component"] = "workspace" }
        self.metadata = metadata
    }

    func log(to logger: Logger, component: ComponentName) {
        var metadata = self.metadata
        if metadata["component"] == nil { metadata["component"] = .string(component.rawValue) }
        logger.log(level: level, "\(message)", metadata: metadata)
    }
}

extension ComponentEvent {
    /// Reports of work going on, which extend systemd's start timeout.
    var isProgress: Bool {
        switch self {
        case .progress, .downloadProgress, .converging, .waiting, .started: true
        default: false
        }
    }
}

extension Duration {
    public var milliseconds: Int {
        Int(components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000)
    }

    var wholeSecondsRoundedUp: Int64 {
        components.seconds + (components.attoseconds > 0 ? 1 : 0)
    }
}
