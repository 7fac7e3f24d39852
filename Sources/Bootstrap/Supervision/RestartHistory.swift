/// The restarts within the budget's window, to decide when it is spent.
struct RestartHistory<Instant: InstantProtocol<Duration>>: Sendable {
    private(set) var times: [Instant] = []

    /// Records a restart at `now`; returns whether the budget still allows it.
    mutating func record(at now: Instant, budget: SupervisionPolicy.RestartBudget) -> Bool {
        times = times.filter { $0.duration(to: now) < budget.window } + [now]
        return times.count <= budget.restarts
    }

    var count: Int { times.count }

    mutating func reset() { times.removeAll() }
}
