import Fetch
import HostSystem
import Synchronization

/// The HTTP endpoint for KubeVirt's VMI readinessProbe (and people with curl):
/// `/readyz` 200 or 503, `/livez` 200 while the daemon's loop runs, `/status`
/// the status as JSON (no secrets in it).
///
/// kubelet gives a probe 1 s, so no client may hold up another: one
/// dedicated thread serves every connection at once, polling non-blocking
/// sockets (see `ProbeConnection`). Each connection has a total `deadline`
/// from accept to the answer sent, however slowly its client trickles
/// bytes; at most `connectionLimit` are open, and a new one beyond that
/// drops the oldest idle one, so a probe always gets in. Request heads are
/// at most 4 KiB; GET and HEAD only. With no connection open the thread
/// sleeps in poll(2) without a timeout (no CPU while idle); otherwise until
/// the nearest deadline.
public final class ReadinessServer: Sendable {
    public struct Response: Sendable {
        public var status: Int
        public var contentType: String
        public var body: [UInt8]

        public init(status: Int, contentType: String = "text/plain; charset=utf-8", body: String) {
            self.status = status
            self.contentType = contentType
            self.body = Array(body.utf8)
        }

        /// The whole answer on the wire; the body left out for HEAD.
        func encoded(includingBody: Bool) -> [UInt8] {
            let reason =
                [
                    200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed",
                    431: "Request Header Fields Too Large", 503: "Service Unavailable",
                ][status] ?? "Status"
            let head =
                "HTTP/1.1 \(status) \(reason)\r\nContent-Type: \(contentType)\r\n"
                + "Content-Length: \(body.count)\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n"
            return Array(head.utf8) + (includingBody ? body : [])
        }
    }

    public typealias Router = @Sendable (_ path: String) -> Response

    public let port: Int
    /// How long a connection may stay open in all, from accept.
    public let deadline: Duration
    /// How many connections may be open at once.
    public let connectionLimit: Int
    private let router: Router
    /// Taken by `run()`, which closes it when it returns.
    private let listener: Mutex<ListeningSocket?>
    /// Signalled when the run is cancelled: wakes the thread in poll(2).
    private let cancelled: WakeUpEvent

    public enum StartError: Error, CustomStringConvertible {
        case socket(port: Int, errno: Int32)
        public var description: String {
            switch self {
            case .socket(let port, let code):
                "cannot listen on readiness port \(port): \(SystemError.describe(code)); choose another readiness.port"
            }
        }
    }

    /// Listens on all addresses (IPv6 and IPv4) at `port` (0: any free port).
    public init(
        port: Int, deadline: Duration = .seconds(2), connectionLimit: Int = 128,
        router: @escaping Router
    ) throws(StartError) {
        do throws(SystemError) {
            let listener = try ListeningSocket(tcpPort: port)
            self.port = listener.port
            self.listener = Mutex(listener)
            self.cancelled = try WakeUpEvent()
        } catch {
            throw .socket(port: port, errno: error.code)
        }
        self.deadline = deadline
        self.connectionLimit = max(1, connectionLimit)
        self.router = router
    }

    /// Serves on a thread of its own until the task is cancelled, then
    /// closes every connection and the listening socket (the port is free
    /// again when it returns). Serves once: a second call returns at once.
    public func run() async {
        await withTaskCancellationHandler {
            await runOnDedicatedThread { self.serve() }
        } onCancel: {
            cancelled.signal()
        }
    }

    /// The loop. It holds the only references to the listening socket and
    /// the connections, so all of them are closed when it returns.
    private func serve() {
        guard let listener = listener.withLock({ $0.take() }) else { return }
        var connections: [ProbeConnection] = []  // oldest first
        var listenerPausedUntil: ContinuousClock.Instant?
        while true {
            let now = ContinuousClock.now
            connections.removeAll { $0.phase == .closed || $0.deadline <= now }
            if let until = listenerPausedUntil, until <= now { listenerPausedUntil = nil }
            var targets = [(cancelled.pollTarget, PollEvents.readable)]
            if listenerPausedUntil == nil { targets.append((listener.pollTarget, .readable)) }
            targets += connections.map { ($0.socket.pollTarget, $0.awaitedEvents) }
            let wakeAt = (connections.map(\.deadline) + [listenerPausedUntil].compactMap { $0 }).min()

            let ready: [PollEvents]
            do throws(SystemError) {
                ready = try Poll.wait(targets, timeout: wakeAt.map { now.duration(to: $0) })
            } catch {
                // poll(2) fails only when the kernel is out of memory: shed
                // every connection (its buffers and descriptor) and wait again.
                connections.removeAll()
                continue
            }
            if !ready[0].isEmpty { return }
            let listenerReady = listenerPausedUntil == nil && !ready[1].isEmpty
            for (connection, events) in zip(connections, ready.suffix(connections.count)) where !events.isEmpty {
                connection.advance(answer)
            }
            if listenerReady, !acceptWaiting(on: listener, into: &connections) {
                // Out of descriptors: leave the clients in the backlog a
                // moment rather than spin on a listener that stays readable.
                listenerPausedUntil = ContinuousClock.now + .milliseconds(100)
            }
        }
    }

    /// Takes the connections waiting (at most `connectionLimit` in one go,
    /// so the open ones are served between bursts), dropping the oldest idle
    /// one for each beyond the limit. Each is advanced at once: its request
    /// may be there already. Returns false when accepting failed.
    private func acceptWaiting(on listener: ListeningSocket, into connections: inout [ProbeConnection]) -> Bool {
        for _ in 0..<connectionLimit {
            let socket: StreamConnection
            do throws(SystemError) {
                guard let accepted = try listener.accept() else { return true }
                socket = accepted
            } catch {
                return false
            }
            connections.removeAll { $0.phase == .closed }
            if connections.count >= connectionLimit {
                connections.remove(at: connections.firstIndex(where: \.isIdle) ?? connections.startIndex)
            }
            let connection = ProbeConnection(socket: socket, deadline: .now + deadline)
            connection.advance(answer)
            connections.append(connection)
        }
        return true
    }

    /// The answer to a whole head, or to why there is none.
    private func answer(_ parsed: Result<HTTPRequestHead, HTTPRequestHead.ParseError>) -> [UInt8] {
        switch parsed {
        case .success(let head) where head.method == "GET" || head.method == "HEAD":
            router(head.path).encoded(includingBody: head.method == "GET")
        case .success:
            Response(status: 405, body: "only GET\n").encoded(includingBody: true)
        case .failure(.tooLarge):
            Response(status: 431, body: "request head too large\n").encoded(includingBody: true)
        case .failure:
            Response(status: 400, body: "bad request\n").encoded(includingBody: true)
        }
    }
}
