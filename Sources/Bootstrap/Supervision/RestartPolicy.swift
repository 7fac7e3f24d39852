/// When the supervisor restarts a component and when it gives up.
///
/// Unhealthy means `failureThreshold` probes in a row failed (one slow answer
/// is not a crash). Restarts back off exponentially with jitter; more than
/// `budget` restarts within `window` mark the component failed, after which
/// it is retried only every `cooldown`, so a Coder outage heals by itself
/// without a restart storm.
public struct RestartPolicy: Sendable, Equatable {
    public var probeInterval: Duration = .seconds(10)
    /// How often to probe while waiting for the first healthy answer.
    public var startupProbeInterval: Duration = .milliseconds(500)
    /// How long a started unit may take to answer its probe.
    public var startTimeout: Duration = .seconds(120)
    public var failureThreshold = 3
    public var initialBackoff: Duration = .seconds(1)
    public var maxBackoff: Duration = .seconds(60)
    public var jitter = 0.2
    public var budget = 5
    public var window: Duration = .seconds(600)
    public var cooldown: Duration = .seconds(300)

    public init() {}

    /// The wait before restart number `restart` (1-based); `random` in 0..<1.
    public func backoff(beforeRestart restart: Int, random: Double = .random(in: 0..<1)) -> Duration {
        var delay = initialBackoff
        for _ in 1..<max(restart, 1) where delay < maxBackoff { delay = delay * 2 }
        delay = min(delay, maxBackoff)
        return delay * (1 - jitter * random)
    }
}

/// Restarts within the policy's window, to decide when the budget is spent.
public struct RestartHistory: Sendable {
    private(set) var times: [ContinuousClock.Instant] = []

    public init() {}

    /// Records a restart at `now`; returns whether the budget still allows it.
    public mutating func record(at now: ContinuousClock.Instant, policy: RestartPolicy) -> Bool {
        times = times.filter { now - $0 < policy.window } + [now]
        return times.count <= policy.budget
    }

    public var countInWindow: Int { times.count }

    public mutating func reset() { times.removeAll() }
}
