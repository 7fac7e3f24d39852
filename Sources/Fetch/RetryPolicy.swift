// When and how long to wait before trying a failed transfer again.
#if canImport(Glibc)
import Glibc
#endif

/// Exponential backoff with jitter, capped in delay and in attempts. Only
/// server faults are retried (FetchError.isServerFault: 5xx, 408, 429, DNS,
/// connect, TLS handshake, timeouts, cut transfers, impossible sizes); a cut
/// transfer's retry resumes where it stopped.
public struct RetryPolicy: Sendable {
    /// Failed attempts allowed before giving up, the first included.
    public var maxAttempts: Int
    /// Wait before the first retry.
    public var initialDelay: Duration
    /// Longest wait between attempts, Retry-After included.
    public var maxDelay: Duration
    /// Growth factor of the wait after each failure.
    public var multiplier: Double
    /// Fraction of each wait that is randomised (0...1), so that many VMs
    /// booting together do not retry in lockstep.
    public var jitter: Double
    /// How a wait is done; Task.sleep by default, so cancelling the download
    /// cancels the wait. Tests may inject something faster.
    public var sleep: @Sendable (Duration) async throws -> Void

    public init(
        maxAttempts: Int = 5,
        initialDelay: Duration = .seconds(1),
        maxDelay: Duration = .seconds(30),
        multiplier: Double = 2,
        jitter: Double = 0.2,
        sleep: @escaping @Sendable (Duration) async throws -> Void = { try await Task.sleep(for: $0) }
    ) {
        self.maxAttempts = maxAttempts
        self.initialDelay = initialDelay
        self.maxDelay = maxDelay
        self.multiplier = multiplier
        self.jitter = jitter
        self.sleep = sleep
    }

    /// No retries at all.
    public static let never = RetryPolicy(maxAttempts: 1)

    /// The wait after the `failures`-th failure in a row (1 for the first),
    /// at least `retryAfter` when the server asked for it, never above maxDelay.
    /// `random` is a number in 0..<1.
    public func delay(
        afterFailure failures: Int, retryAfter: Duration? = nil,
        random: Double = Double.random(in: 0..<1)
    ) -> Duration {
        let growth = pow(multiplier, Double(max(0, failures - 1)))
        let base = min(initialDelay.seconds * growth, maxDelay.seconds)
        let jittered = base * (1 - jitter * random)
        let wanted = max(jittered, retryAfter?.seconds ?? 0)
        return .milliseconds(Int64((min(wanted, maxDelay.seconds) * 1000).rounded()))
    }
}

extension Duration {
    /// The duration as floating-point seconds.
    var seconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
