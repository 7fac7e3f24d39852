import WorkspaceSpec

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Where a component is in its life; shown by `status`, `/status` and journal entries.
public enum ComponentState: String, Codable, Sendable {
    /// Waiting for the components it needs.
    case pending
    /// A component it needs has failed; it waits for that one to recover.
    case blocked
    /// Making the machine match the spec (packages, files, downloads).
    case converging
    /// Its unit was started; waiting for the first healthy probe.
    case starting
    case ready
    /// Probes fail; it will be restarted if this goes on.
    case unhealthy
    case restarting
    /// Gave up until the cooldown: the restart budget is spent or converging
    /// failed in a way trying again at once will not fix.
    case failed
    /// Turned off in the spec.
    case disabled
}

/// A download in flight: what, how many bytes of how many, how fast.
public struct ComponentProgress: Codable, Equatable, Sendable {
    /// What is being downloaded, e.g. "code-server 4.96.4".
    public var what: String
    public var bytes: Int64
    /// nil when the server did not say.
    public var totalBytes: Int64?
    public var bytesPerSecond: Double

    public init(what: String, bytes: Int64, totalBytes: Int64?, bytesPerSecond: Double) {
        self.what = what
        self.bytes = bytes
        self.totalBytes = totalBytes
        self.bytesPerSecond = bytesPerSecond
    }

    /// 0...1 when the total is known.
    public var fraction: Double? {
        guard let totalBytes, totalBytes > 0 else { return nil }
        return min(1, Double(bytes) / Double(totalBytes))
    }

    /// "downloading code-server 4.96.4: 41% of 120 MB", for STATUS.
    public var line: String {
        guard let fraction, let totalBytes else { return "downloading \(what): \(Self.megabytes(bytes)) so far" }
        return "downloading \(what): \(Int(fraction * 100))% of \(Self.megabytes(totalBytes))"
    }

    static func megabytes(_ bytes: Int64) -> String {
        bytes >= 10_000_000 ? "\(bytes / 1_000_000) MB" : "\(Double(bytes / 100_000) / 10) MB"
    }
}

/// One stage of a component's start with how long it took, e.g. download 812 ms.
public struct StageTiming: Codable, Equatable, Sendable {
    public var stage: String
    public var milliseconds: Int
}

public struct ComponentStatus: Codable, Equatable, Sendable {
    public var name: ComponentName
    public var state: ComponentState
    public var required: Bool
    /// One line on what is happening now ("downloading 41% of 120 MB").
    public var detail: String?
    public var lastError: String?
    public var restarts: Int = 0
    public var stages: [StageTiming] = []
    /// Milliseconds from daemon start to the first healthy probe.
    public var readyAfterMilliseconds: Int?
    /// The last lines of the unit's journal when it failed. Local views
    /// only (`status`, the status file): the readiness endpoint drops them.
    public var journalTail: [String]?
    /// How far the current download has come, for progress bars.
    public var progress: ComponentProgress?
    /// When the component entered its current state, for elapsed times.
    public var since: Date?

    public init(name: ComponentName, state: ComponentState, required: Bool) {
        self.name = name
        self.state = state
        self.required = required
    }
}

/// The workspace as a whole. Contains no secrets: it is served on the
/// readiness port and written to a world-readable file.
public struct WorkspaceStatus: Codable, Equatable, Sendable {
    public enum Phase: String, Codable, Sendable {
        case starting, ready, degraded, failed, stopping
    }

    public var phase: Phase
    /// The one-line summary that is also systemd's STATUS=.
    public var summary: String
    public var components: [ComponentStatus]
    public var daemonPID: Int32
    public var daemonVersion: String
    public var startedAt: Date
    public var updatedAt: Date
    public var readyAfterMilliseconds: Int?
    public var specPath: String?
    public var host: String?
    public var notes: [String] = []
    /// The daemon's own stages before the components (spec read, ...).
    /// Optional so that a status file of a daemon from before they existed
    /// still reads (after an upgrade the old daemon may still be running).
    public var stages: [StageTiming]?

    /// The phase that follows from the components: failed when a required one
    /// failed, starting while any enabled one has not come up yet, degraded
    /// while anything enabled is unwell, else ready. (READY=1 and /readyz
    /// only wait for the required ones: see `isReady`.)
    public static func phase(of components: [ComponentStatus]) -> Phase {
        let enabled = components.filter { $0.state != .disabled }
        if enabled.contains(where: { $0.required && ($0.state == .failed || $0.state == .blocked) }) { return .failed }
        if enabled.contains(where: { [.pending, .converging, .starting].contains($0.state) }) { return .starting }
        return enabled.allSatisfy { $0.state == .ready } ? .ready : .degraded
    }

    /// What the network may see (`/status` on the readiness port): no
    /// journal lines, and no URL query strings (a signed URL's credentials)
    /// in any text. The local `status` command keeps full detail.
    public var networkView: WorkspaceStatus {
        var view = self
        view.notes = notes.map(Self.withoutURLQueries)
        for index in view.components.indices {
            view.components[index].journalTail = nil
            view.components[index].detail = components[index].detail.map(Self.withoutURLQueries)
            view.components[index].lastError = components[index].lastError.map(Self.withoutURLQueries)
        }
        view.summary = Self.withoutURLQueries(summary)
        return view
    }

    /// Every `?query` or `#fragment` of an http(s) URL in `text` cut off.
    static func withoutURLQueries(_ text: String) -> String {
        var out = ""
        var inURL = false
        var skipping = false
        var index = text.startIndex
        while index < text.endIndex {
            let rest = text[index...]
            if !inURL, rest.hasPrefix("http://") || rest.hasPrefix("https://") { inURL = true }
            let character = text[index]
            if character.isWhitespace || character == "\"" || character == ")" || character == "," {
                inURL = false
                skipping = false
            } else if inURL, character == "?" || character == "#" {
                skipping = true
            }
            if !skipping { out.append(character) }
            index = text.index(after: index)
        }
        return out
    }

    /// What /readyz answers: every required component is healthy now.
    public var isReady: Bool {
        components.filter(\.required).allSatisfy { $0.state == .ready }
    }
}
