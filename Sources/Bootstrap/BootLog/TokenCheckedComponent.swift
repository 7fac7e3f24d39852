import WorkspaceSpec

/// The agent component, failing as a configuration error while Coder
/// refuses the token: the supervisor then reports it failed with what to
/// do and tries again only after its cooldown, instead of restarting an
/// agent that cannot get in as if the network were at fault. Converging
/// (the token file, the binary's revalidation: neither is refused with the
/// token) runs beside the wait (at most `firstAnswerLimit`) for the boot
/// log's first answer from Coder, and the agent starts only after it, so a
/// token refused at boot is said at once. The agent's own
/// probe decides: an agent that is connected is healthy whatever the
/// verdict says.
struct TokenCheckedComponent: Component {
    let wrapped: any Component
    let verdict: AgentTokenVerdict
    var firstAnswerLimit: Duration = .seconds(15)

    var name: ComponentName { wrapped.name }
    var needs: Set<ComponentName> { wrapped.needs }
    var bootUnits: [String] { wrapped.bootUnits }
    var afterUnits: [String] { wrapped.afterUnits }
    var unit: String? { wrapped.unit }
    var usesSecrets: Bool { wrapped.usesSecrets }

    func converge(_ context: ComponentContext) async throws -> Bool {
        async let changed = wrapped.converge(context)
        await verdict.firstAnswer(within: firstAnswerLimit)
        if let refusal = verdict.current {
            _ = try? await changed
            throw ComponentError(.configuration, refusal)
        }
        return try await changed
    }

    func probe() async -> ProbeResult {
        let result = await wrapped.probe()
        if result != .healthy, let refusal = verdict.current { return .unhealthy(refusal) }
        return result
    }

    func prefetch(_ context: ComponentContext, needsReady: NeedsReady) async throws -> Bool {
        try await wrapped.prefetch(context, needsReady: needsReady)
    }

    func afterReady(_ context: ComponentContext) async { await wrapped.afterReady(context) }

    func prepareStart(_ context: ComponentContext) async throws { try await wrapped.prepareStart(context) }
}
