import WorkspaceSpec

/// What happens to a component, as the supervisor (and the component's own
/// work) tells it. `StatusBoard` is the one place that turns events into
/// systemd's STATUS=, the status file, the readiness endpoint and journal
/// entries with their MESSAGE_ID.
public enum ComponentEvent: Sendable, Equatable {
    /// Waiting for the components it needs.
    case pending(waitingFor: [ComponentName])
    /// A component it needs has failed; it waits until that one recovers.
    case blocked(by: ComponentName, reason: String)
    /// Making the machine match the spec (files, packages, downloads).
    case converging
    /// One line on what converging is doing now ("writing authorized keys").
    case progress(String)
    /// A download in flight, for progress bars.
    case downloadProgress(ComponentProgress)
    case download(DownloadEvent)
    /// Converging failed because of a server, the network or a passing
    /// local condition; it is tried again after `retryIn` without spending
    /// the restart budget.
    case waiting(reason: String, retryIn: Duration, attempt: Int)
    /// A stage of the start finished (`converge`, `start`), for `status`.
    case stage(String, Duration)
    /// Its unit was (re)started; waiting for the first healthy probe.
    case started(unit: String)
    /// The probe answered; `first` for the first time since the daemon started.
    case healthy(first: Bool)
    case unhealthy(reason: String, failures: Int, threshold: Int)
    /// The daemon is about to restart the unit (`bySystemd: false`), or
    /// systemd restarted it by itself `count` times since the last look.
    case restarting(reason: String, after: Duration, restart: Int, budget: Int)
    case restarted(bySystemd: Bool, count: Int)
    /// Given up until `retryIn`: the restart budget is spent, or converging
    /// failed in a way trying again at once will not fix.
    case failed(lastError: String, journalTail: [String]?, retryIn: Duration)
}

/// One download's life, each with its own MESSAGE_ID in the journal.
public enum DownloadEvent: Sendable, Equatable {
    case started(what: String, url: String)
    case finished(what: String, url: String, bytes: Int64, notModified: Bool, duration: Duration)
    case failed(what: String, url: String, error: String)
}

/// Where events go: `StatusBoard` in the daemon, a recorder in tests.
public protocol ComponentEventSink: Sendable {
    func record(_ event: ComponentEvent, for component: ComponentName)
}
