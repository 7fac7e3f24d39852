import Synchronization

/// Whether Coder refuses this boot's agent token, as the boot log's own
/// calls to Coder find out. The agent's supervision reads it (see
/// `TokenCheckedComponent`): without it, an agent that cannot get in looks
/// like one that cannot reach Coder.
public final class AgentTokenVerdict: Sendable {
    private struct State {
        /// Coder has answered a call (or could not be reached) at least once.
        var heard = false
        var refusal: String?
    }

    private let state = Mutex(State())
    private let signal = ChangeSignal()

    public init() {}

    /// What to tell people while Coder refuses the token, else nil.
    public var current: String? { state.withLock { $0.refusal } }

    /// Returns once the boot log has had its first answer from Coder, or
    /// after `limit`: an agent started before that would spend its start
    /// timeout on a token Coder refuses at once.
    func firstAnswer(within limit: Duration) async {
        let deadline = ContinuousClock.now.advanced(by: limit)
        while ContinuousClock.now < deadline, !Task.isCancelled {
            let version = signal.version
            if state.withLock({ $0.heard }) { return }
            await signal.change(after: version, until: deadline)
        }
    }

    /// A call got an answer that says nothing about the token (or none).
    func heard() { update { $0.heard = true } }

    func refuse(_ why: String) {
        update {
            $0.heard = true
            $0.refusal = why
        }
    }

    /// Coder took the token (after a provisioning that took long, say).
    func accept() {
        update {
            $0.heard = true
            $0.refusal = nil
        }
    }

    private func update(_ change: (inout State) -> Void) {
        state.withLock { change(&$0) }
        signal.bump()
    }
}
