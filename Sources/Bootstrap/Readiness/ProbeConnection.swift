import HostSystem

/// One client of the readiness endpoint, from accept to close. The server's
/// poll loop advances it whenever its socket is ready; it never blocks.
///
/// It reads a request head (at most `HTTPRequestHead.maximumSize` bytes,
/// each looked at a bounded number of times however it is cut up), sends
/// the answer, shuts down its sending side, then reads and discards what
/// the client still sends until the client hangs up (at most `drainLimit`
/// bytes): closing with input unread makes the kernel reset the connection,
/// which can destroy the answer in flight (a 431 after 4 KiB of a larger
/// head). The server drops it at its `deadline` whatever its phase.
final class ProbeConnection {
    enum Phase: Equatable {
        case readingHead
        case answering
        /// Answered; waiting for the client to hang up.
        case draining
        case closed
    }

    static let drainLimit = 64 * 1024

    let socket: StreamConnection
    /// From accept to the answer sent and the client gone.
    let deadline: ContinuousClock.Instant
    private(set) var phase = Phase.readingHead
    private var received: [UInt8] = []
    private var unsent: ArraySlice<UInt8> = []
    private var drained = 0

    init(socket: StreamConnection, deadline: ContinuousClock.Instant) {
        self.socket = socket
        self.deadline = deadline
    }

    /// What its socket must become before it can go on.
    var awaitedEvents: PollEvents { phase == .answering ? .writable : .readable }

    /// Waiting on its client (for the rest of a request, or for the hang-up
    /// after the answer) rather than on the server: the kind of connection
    /// dropped first when too many are open.
    var isIdle: Bool { phase == .readingHead || phase == .draining }

    /// Does everything that can be done now without waiting. `respond`
    /// turns a whole head, or why there is none (too large, malformed),
    /// into the bytes of the answer.
    func advance(_ respond: (Result<HTTPRequestHead, HTTPRequestHead.ParseError>) -> [UInt8]) {
        do throws(SystemError) {
            while true {
                switch phase {
                case .readingHead: guard try readHead(respond) else { return }
                case .answering: guard try sendAnswer() else { return }
                case .draining: guard try drain() else { return }
                case .closed: return
                }
            }
        } catch {
            phase = .closed  // reset by the client: nobody is left to answer
        }
    }

    /// One receive; returns whether to go on.
    private func readHead(_ respond: (Result<HTTPRequestHead, HTTPRequestHead.ParseError>) -> [UInt8]) throws(SystemError) -> Bool {
        switch try socket.receive(upTo: HTTPRequestHead.maximumSize + 1 - received.count) {
        case .nothingYet:
            return false
        case .endOfStream:
            phase = .closed  // hung up before the head ended: nothing to answer
            return true
        case .bytes(let bytes):
            let lookedAt = received.count
            received += bytes
            guard HTTPRequestHead.headEnd(received, from: lookedAt - 2) != nil || received.count > HTTPRequestHead.maximumSize else {
                return true
            }
            unsent = respond(Result { () throws(HTTPRequestHead.ParseError) in try HTTPRequestHead.parse(received) })[...]
            received = []
            phase = .answering
            return true
        }
    }

    /// One send; returns whether to go on.
    private func sendAnswer() throws(SystemError) -> Bool {
        let sent = try socket.send(unsent)
        unsent = unsent.dropFirst(sent)
        guard unsent.isEmpty else { return sent > 0 }
        socket.shutdownWriting()
        phase = .draining
        return true
    }

    /// One receive, discarded; returns whether to go on.
    private func drain() throws(SystemError) -> Bool {
        switch try socket.receive(upTo: 4096) {
        case .nothingYet:
            return false
        case .endOfStream:
            phase = .closed
        case .bytes(let bytes):
            drained += bytes.count
            if drained > Self.drainLimit { phase = .closed }
        }
        return true
    }
}
