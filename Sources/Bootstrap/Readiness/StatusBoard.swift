#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc
import Logging
import Synchronization
import SystemdSupport
import WorkspaceSpec

/// The one place the workspace's status lives. Every change is published to
/// all audiences at once: systemd (STATUS=, READY=1), the status file that
/// `coder-vm-bootstrap status` reads, and the readiness endpoint's snapshot.
public actor StatusBoard {
    private var status: WorkspaceStatus
    private let started = ContinuousClock.now
    private let notifier: Notifier
    private let statusFile: String
    private var sentReady = false
    /// Read by the readiness server's thread without hopping onto the actor.
    public nonisolated let snapshot: Mutex<WorkspaceStatus>

    public init(spec: WorkspaceSpec, specPath: String?, host: HostDetection, notifier: Notifier, statusFile: String) {
        let required = spec.requiredComponents
        let enabled = Set(spec.enabledComponents)
        let components = ComponentName.allCases.map {
            ComponentStatus(name: $0, state: enabled.contains($0) ? .pending : .disabled, required: required.contains($0))
        }
        let now = Date()
        status = WorkspaceStatus(
            phase: .starting, summary: "starting", components: components, daemonPID: getpid(),
            daemonVersion: BuildInfo.version, startedAt: now, updatedAt: now, specPath: specPath,
            host: host.osRelease.prettyName, notes: host.note.map { [$0] } ?? [])
        snapshot = Mutex(status)
        self.notifier = notifier
        self.statusFile = statusFile
    }

    public var elapsedMilliseconds: Int { Self.milliseconds(started.duration(to: .now)) }

    /// Changes one component and publishes the result.
    public func update(_ name: ComponentName, _ change: (inout ComponentStatus) -> Void) {
        guard let index = status.components.firstIndex(where: { $0.name == name }) else { return }
        change(&status.components[index])
        if status.components[index].state == .ready, status.components[index].readyAfterMilliseconds == nil {
            status.components[index].readyAfterMilliseconds = elapsedMilliseconds
        }
        publish()
    }

    /// A progress line from a component's work. Reports travel in Tasks and
    /// may arrive late: one that lands after the component came up (or gave
    /// up) is stale and dropped.
    public func report(_ name: ComponentName, _ line: String) {
        guard let component = status.components.first(where: { $0.name == name }),
              [.pending, .converging, .starting].contains(component.state) else { return }
        update(name) { $0.detail = line }
        // Progress buys time: the unit's TimeoutStartSec counts from the last
        // report, so a slow download on a slow link is not killed, a stall is.
        if !sentReady { _ = try? notifier.send([.extendTimeout(Self.startProgressAllowance)]) }
    }

    /// How long the start may go on without any progress report.
    public static let startProgressAllowance: Duration = .seconds(300)

    public func stopping() {
        status.phase = .stopping
        status.summary = "stopping"
        publish()
        _ = try? notifier.send([.stopping, .status("stopping")])
    }

    private func publish() {
        status.phase = WorkspaceStatus.phase(of: status.components)
        status.summary = Self.summary(of: status)
        status.updatedAt = Date()
        if status.isReady, status.readyAfterMilliseconds == nil { status.readyAfterMilliseconds = elapsedMilliseconds }
        snapshot.withLock { $0 = status }
        writeStatusFile()
        var messages: [Notifier.State] = [.status(status.summary)]
        // READY=1 once everything required is healthy, or once it is clear it
        // will not be (failed): the daemon is then up and reporting, and the
        // boot must not wait on it for its whole start timeout.
        if !sentReady, status.isReady || status.phase == .failed {
            sentReady = true
            messages.append(.ready)
        }
        _ = try? notifier.send(messages)
    }

    private func writeStatusFile() {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        guard let data = try? encoder.encode(status) else { return }
        _ = try? AtomicFile.write(Array(data) + [10], to: statusFile, mode: 0o644)
    }

    /// systemd's STATUS= line: what is happening now, for a person.
    static func summary(of status: WorkspaceStatus) -> String {
        let enabled = status.components.filter { $0.state != .disabled }
        let ready = enabled.filter { $0.state == .ready }.map(\.name.rawValue)
        let readyList = ready.isEmpty ? "" : "ready: \(ready.joined(separator: " "))"
        switch status.phase {
        case .ready:
            return readyList
        case .stopping:
            return "stopping"
        case .starting, .degraded, .failed:
            let busy = enabled.filter { $0.state != .ready }.map { component -> String in
                let what = component.state == .failed ? "failed: \(component.lastError ?? "")" : component.detail ?? component.state.rawValue
                return "\(component.name.rawValue) \(what)"
            }
            let prefix = status.phase == .starting ? "" : "\(status.phase.rawValue): "
            return prefix + (busy + (readyList.isEmpty ? [] : [readyList])).joined(separator: "; ")
        }
    }

    static func milliseconds(_ duration: Duration) -> Int {
        Int(duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000)
    }
}
