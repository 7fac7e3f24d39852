import Dispatch
import Glibc

/// SIGTERM and SIGINT, awaited: the default actions are turned off
/// (signal(2) SIG_IGN) and the signals delivered through Dispatch sources.
public final class StopSignal: @unchecked Sendable {  // immutable after init
    private let sources: [DispatchSourceSignal]
    private let stream: AsyncStream<Void>

    public init() {
        let (stream, continuation) = AsyncStream<Void>.makeStream()
        self.stream = stream
        sources = [SIGTERM, SIGINT].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { continuation.yield() }
            source.resume()
            return source
        }
    }

    /// Returns at the first signal (or when the task is cancelled).
    public func wait() async {
        for await _ in stream { return }
    }
}
