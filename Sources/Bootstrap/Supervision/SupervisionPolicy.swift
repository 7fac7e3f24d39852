/// How the supervisor treats a component, as data: how often it probes,
/// when it calls it unhealthy, how it backs off and when it gives up.
///
/// Unhealthy means `failuresBeforeUnhealthy` probes in a row failed (one
/// slow answer is not a crash). A hung program is killed (`hungSignal`)
/// before its unit is restarted. Restarts back off exponentially; more than
/// `budget.restarts` within `budget.window` (systemd's own restarts
/// included) mark it failed, after which it is tried again only every
/// `cooldown`, so a crash loop never becomes a restart storm. A converge
/// that fails because of a server is retried on `serverRetry`, capped so it
/// converges within `serverRetry.maximum` of the server being right again,
/// and never spends the budget.
public struct SupervisionPolicy: Sendable, Equatable {
    public var probeInterval: Duration = .seconds(10)
    /// How often to probe while waiting for the first healthy answer: every
    /// eighth of the time waited so far, within these bounds, so a program
    /// that answers is seen at most that much later (a fixed 250 ms could
    /// add that much to every start on the way to READY=1).
    public var startupProbeInterval: ClosedRange<Duration> = .milliseconds(20) ... .milliseconds(250)
    /// How long a started unit may take to answer its probe.
    public var startTimeout: Duration = .seconds(120)
    public var failuresBeforeUnhealthy = 3
    public var restartBackoff = Backoff(initial: .seconds(1), maximum: .seconds(60))
    public var budget = RestartBudget(restarts: 5, window: .seconds(600))
    public var cooldown: Duration = .seconds(300)
    public var serverRetry = Backoff(initial: .seconds(1), maximum: .seconds(30))
    /// Sent to every process of a unit that stopped answering, before the
    /// restart (a hung program may ignore SIGTERM).
    public var hungSignal: Int32 = 9
    /// The longest a converge (downloads, a package install) may go without
    /// ending before the watchdog stops vouching for the daemon.
    public var convergeAllowance: Duration = .seconds(35 * 60)
    /// The same for one call to systemd or one probe.
    public var unitCallAllowance: Duration = .seconds(60)
    public var probeAllowance: Duration = .seconds(30)

    public init() {}

    /// The wait before the next start-up probe, `waited` after the unit's start.
    public func startupProbeDelay(after waited: Duration) -> Duration {
        min(startupProbeInterval.upperBound, max(startupProbeInterval.lowerBound, waited / 8))
    }

    public struct Backoff: Sendable, Equatable {
        public var initial: Duration
        public var maximum: Duration
        /// Fraction of each wait that is random (0...1), so many VMs do not retry in lockstep.
        public var jitter = 0.2

        public init(initial: Duration, maximum: Duration, jitter: Double = 0.2) {
            self.initial = initial
            self.maximum = maximum
            self.jitter = jitter
        }

        /// The wait before attempt `attempt` + 1 (`attempt` >= 1); `random` in 0..<1.
        public func delay(after attempt: Int, random: Double = .random(in: 0..<1)) -> Duration {
            var delay = initial
            for _ in 1..<max(attempt, 1) where delay < maximum { delay = delay * 2 }
            return min(delay, maximum) * (1 - jitter * random)
        }
    }

    public struct RestartBudget: Sendable, Equatable {
        public var restarts: Int
        public var window: Duration

        public init(restarts: Int, window: Duration) {
            self.restarts = restarts
            self.window = window
        }
    }
}
