/// What a component's prefetch waits on before the part of its work that
/// needs the components in its `needs`: the agent's binary downloads at
/// once but is checked by running it as the user, so its check waits for
/// the user. The supervisor makes it from its `DependencyGate`.
public struct NeedsReady: Sendable {
    private let waitForNeeds: @Sendable () async throws -> Void

    /// Ready once `wait` returns.
    public init(_ wait: @escaping @Sendable () async throws -> Void) {
        waitForNeeds = wait
    }

    /// Returns once every component in `needs` is ready.
    /// - Throws: CancellationError when cancelled first.
    public func wait() async throws { try await waitForNeeds() }
}
