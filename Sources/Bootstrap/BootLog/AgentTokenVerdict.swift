import Synchronization

/// Whether Coder refuses this boot's agent token, as the boot log's own
/// calls to Coder find out. The agent's supervision reads it (see
/// `TokenCheckedComponent`): without it, an agent that cannot get in looks
/// like one that cannot reach Coder.
public final class AgentTokenVerdict: Sendable {
    private let refusal = Mutex<String?>(nil)

    public init() {}

    /// What to tell people while Coder refuses the token, else nil.
    public var current: String? { refusal.withLock { $0 } }

    func refuse(_ why: String) { refusal.withLock { $0 = why } }

    /// Coder accepted the token after all (a provisioning that took long).
    func accept() { refusal.withLock { $0 = nil } }
}
