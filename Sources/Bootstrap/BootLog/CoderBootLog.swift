import Fetch
import Logging
import Synchronization
import WorkspaceSpec

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif

/// The boot as lines on the Coder workspace page, before and while the
/// agent connects: a second consumer of the components' events (the
/// `StatusBoard` is the first and decides the status; this one reads the
/// board's status for the workspace's own lines) that sends them to Coder's
/// agent log API as one log source, "coder-vm-bootstrap".
///
/// `record` only turns the event into lines and queues them: it never
/// waits on the network. `run` is the one task that sends, in batches;
/// while Coder answers 401 (it does until the build that made the agent
/// has finished) the lines wait in the queue and it tries again with
/// capped backoff. Bounded: `Limits.maxLines` lines per boot, each at most
/// `Limits.maxLineBytes`, never a secret of the spec (`SecretRedaction`).
///
/// It stops `Limits.graceAfterReady` after the workspace is first ready:
/// by then the agent is connected and shows its own logs, and the last
/// lines of the boot (what became ready, how long it took) are sent. A
/// workspace that is not ready keeps reporting, within the line limit:
/// that is when people need to see why.
///
/// A Coder that refuses the token (403, or 401 for
/// `Limits.refusalAfterUnauthorized`, longer than any provisioning) is
/// told to the agent's supervision through `verdict`, so the agent fails
/// with what to do instead of looking like a network problem.
///
/// Only with `coder.auth: token`: the other modes give the VM no token.
public final class CoderBootLog: ComponentEventSink, Sendable {
    public struct Limits: Sendable {
        public var maxLines = 200
        public var maxLineBytes = 512
        /// Lines per PATCH (the agent's own sender sends at most 100).
        public var batchLines = 100
        /// How long a first line waits for others to go with it.
        public var batchWindow: Duration = .seconds(1)
        public var retry = SupervisionPolicy.Backoff(initial: .seconds(1), maximum: .seconds(30))
        /// A 401 that lasts this long means Coder will not take the token.
        public var refusalAfterUnauthorized: Duration = .seconds(600)
        public var graceAfterReady: Duration = .seconds(30)
        public var callTimeout: Duration = .seconds(15)
        var pace = BootLogTranscript.Pace()

        public init() {}
    }

    /// What Coder thinks of the token, for the agent's supervision.
    public let verdict = AgentTokenVerdict()
    let limits: Limits
    private let coder: CoderSettings
    private let token: String
    private let sourceID = BootLogSource.id
    private let network: DownloadService
    private let status: @Sendable () -> WorkspaceStatus
    private let logger: Logger
    private let state: Mutex<State>

    private struct State {
        var transcript: BootLogTranscript
        var queue: BootLogQueue
        /// When the workspace was first ready.
        var readyAt: ContinuousClock.Instant?
        /// No more lines are taken: the boot log has ended.
        var closed = false
    }

    /// Bumped when lines are queued or the workspace is first ready.
    private let queued = ChangeSignal()

    /// nil unless the spec has a Coder section with `auth: token` and a
    /// token that can be read (the agent component reports a missing one).
    /// - Parameters:
    ///   - network: whose CA bundle and proxy the calls use, and where they run.
    ///   - status: the board's status now.
    public init?(
        spec: WorkspaceSpec, network: DownloadService, status: @escaping @Sendable () -> WorkspaceStatus,
        logger: Logger, limits: Limits = Limits()
    ) {
        guard let coder = spec.coder, coder.auth == .token, let token = try? AgentToken.read(coder), !token.isEmpty else {
            return nil
        }
        self.coder = coder
        self.token = token
        self.limits = limits
        self.network = network
        self.status = status
        self.logger = logger
        let transcript = BootLogTranscript(
            redaction: SecretRedaction(spec: spec, token: token),
            maxLineBytes: limits.maxLineBytes, pace: limits.pace)
        var queue = BootLogQueue(capacity: limits.maxLines)
        let now = status()
        queue.append(transcript.opening(now))
        state = Mutex(State(transcript: transcript, queue: queue))
    }

    /// The component as the engine supervises it: the agent checked against `verdict`.
    public func guarding(_ component: any Component) -> any Component {
        component.name == .agent ? TokenCheckedComponent(wrapped: component, verdict: verdict) : component
    }

    // MARK: Events in

    public func record(_ event: ComponentEvent, for component: ComponentName) {
        // The board has this event already (see EventFanOut); its phase
        // changes only with a component's state.
        let workspace = event.changesState ? status() : nil
        let news = state.withLock { state -> Bool in
            guard !state.closed else { return false }
            var lines = state.transcript.lines(for: event, of: component, at: .now)
            var becameReady = false
            if let workspace {
                lines += state.transcript.lines(forWorkspace: workspace)
                if workspace.phase == .ready, state.readyAt == nil {
                    state.readyAt = .now
                    becameReady = true
                }
            }
            var added = false
            for line in lines { added = state.queue.append(line) || added }
            return added || becameReady
        }
        if news { queued.bump() }
    }

    // MARK: Lines out

    /// Sends until the boot log ends (see the type's comment) or the task
    /// is cancelled; lines left then are dropped, and the journal says how many.
    public func run() async {
        var sender = Sender()
        var batch: [BootLogLine] = []
        var failures = 0
        sending: while !Task.isCancelled {
            if batch.isEmpty {
                guard await waitForLines() else { break }
                // The first call goes at once: the agent waits for Coder's
                // first answer to its token. Later lines gather for a window.
                if sender.registered { try? await Task.sleep(for: limits.batchWindow) }
                batch = state.withLock { $0.queue.take(limits.batchLines) }
                if batch.isEmpty { continue }
            }
            switch await deliver(batch, &sender) {
            case .delivered:
                batch = []
                failures = 0
            case .again:
                failures += 1
                try? await Task.sleep(for: limits.retry.delay(after: failures))
            case .stop:
                break sending
            }
        }
        close(unsent: batch.count)
    }

    /// What the sending task knows between batches.
    private struct Sender {
        var api: CoderAgentLogAPI?
        var registered = false
        /// Since when Coder has answered 401 without a break.
        var unauthorizedSince: ContinuousClock.Instant?
        /// The last problem told to the journal, so a retry loop tells it once.
        var lastProblem: String?
    }

    private enum Delivery {
        /// Sent, or refused by Coder for good (then it is in the journal).
        case delivered
        case again
        case stop
    }

    private func deliver(_ batch: [BootLogLine], _ sender: inout Sender) async -> Delivery {
        guard let api = connect(&sender) else { return .again }
        if !sender.registered {
            let reply = await api.registerSource(id: sourceID)
            guard reply == .accepted else { return handle(reply, lines: batch.count, &sender) }
            sender.registered = true
            // The registration is a call with the agent token: Coder has taken it.
            verdict.accept()
        }
        return handle(await api.send(batch, source: sourceID), lines: batch.count, &sender)
    }

    /// The API client, made on first use: the spec's CA bundle is written by
    /// the user component, which may not have run yet. In the daemon each
    /// call runs in a fetch worker, so libcurl never stays mapped in it.
    private func connect(_ sender: inout Sender) -> CoderAgentLogAPI? {
        if let api = sender.api { return api }
        do {
            let client = try network.apiClient(logger: logger)
            sender.api = CoderAgentLogAPI(
                client: client, baseURL: coder.effectiveAgentURL, token: token,
                extraHeaders: coder.agentHeaders, timeout: limits.callTimeout)
        } catch FetchError.file(_, let path, let code) where code == ENOENT && path == network.network.extraCABundle {
            // Not written yet: try again with the next batch.
        } catch {
            tell(.warning, "cannot send the boot log to Coder: \(error)", &sender)
            verdict.heard()  // and never will: the agent need not wait for it
        }
        return sender.api
    }

    private func handle(_ reply: CoderAgentLogAPI.Reply, lines: Int, _ sender: inout Sender) -> Delivery {
        if Task.isCancelled { return .stop }  // the call was cut short: no news from Coder
        defer { verdict.heard() }
        switch reply {
        case .accepted:
            verdict.accept()
            sender.unauthorizedSince = nil
            if sender.lastProblem != nil { tell(.info, "the boot log reaches Coder again", &sender) }
            sender.lastProblem = nil
            return .delivered
        case .notAuthorized(let said):
            let since = sender.unauthorizedSince ?? .now
            sender.unauthorizedSince = since
            if since.duration(to: .now) >= limits.refusalAfterUnauthorized {
                let window = limits.refusalAfterUnauthorized.wholeSecondsRoundedUp
                refuse(
                    "Coder refuses this workspace's agent token (HTTP 401 for over \(window >= 60 ? "\(window / 60) min" : "\(window) s"), "
                        + "longer than a build takes to finish): the VM probably runs an older build's token; restart the workspace from Coder",
                    &sender)
            } else {
                tell(.info, "Coder does not take the agent token yet (HTTP 401: \(said)): waiting for the workspace build to finish", &sender)
            }
            return .again
        case .forbidden(let said):
            refuse(
                "Coder refuses this workspace's agent token (HTTP 403: \(said)): the VM runs an older build's token; "
                    + "restart the workspace from Coder", &sender)
            return .stop
        case .refusedLines(let said):
            tell(.warning, "Coder refused \(lines) boot log lines (\(said))", &sender)
            return .delivered
        case .closed(let why):
            tell(.warning, "the boot log stops: \(why)", &sender)
            return .stop
        case .failed(let why):
            tell(.warning, "cannot send the boot log to Coder, trying again: \(why)", &sender)
            return .again
        }
    }

    private func refuse(_ why: String, _ sender: inout Sender) {
        let said = state.withLock { $0.transcript.clean(why) }
        verdict.refuse(said)
        tell(.error, said, &sender)
    }

    /// One journal entry per problem, however often it recurs.
    private func tell(_ level: Logger.Level, _ message: String, _ sender: inout Sender) {
        let text = state.withLock { $0.transcript.clean(message) }
        guard text != sender.lastProblem else { return }
        sender.lastProblem = text
        logger.log(level: level, "\(text)", metadata: ["component": "agent", "stage": "boot-log"])
    }

    /// Ends the boot log: later events are not taken, waiting lines dropped.
    private func close(unsent: Int) {
        let (left, refused) = state.withLock { state in
            state.closed = true
            return (state.queue.take(.max).count + unsent, state.queue.dropped)
        }
        guard left + refused > 0 else { return }
        let message =
            "the boot log ended with \(left) lines unsent and \(refused) over its limit of \(limits.maxLines); "
            + "they are in the journal"
        logger.notice("\(message)", metadata: ["component": "agent", "stage": "boot-log"])
    }

    /// True once lines wait; false when the boot log is done (the workspace
    /// has been ready for the grace period and nothing waits) or cancelled.
    private func waitForLines() async -> Bool {
        while !Task.isCancelled {
            let version = queued.version
            let (empty, readyAt) = state.withLock { ($0.queue.isEmpty, $0.readyAt) }
            if !empty { return true }
            guard let readyAt else {
                await queued.change(after: version)
                continue
            }
            let end = readyAt.advanced(by: limits.graceAfterReady)
            if ContinuousClock.now >= end { return false }
            await queued.change(after: version, until: end)
        }
        return false
    }
}

extension ComponentEvent {
    /// Whether the event can change a component's state (and with it the
    /// workspace's phase); progress reports and stage timings cannot.
    var changesState: Bool {
        switch self {
        case .progress, .downloadProgress, .download, .stage: false
        default: true
        }
    }
}
