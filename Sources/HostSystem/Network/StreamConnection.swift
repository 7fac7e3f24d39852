import Glibc

/// One accepted TCP connection in non-blocking mode (as
/// `ListeningSocket.accept()` hands it out): receiving and sending never
/// wait, so one thread can serve many of them with `Poll.wait`. Used by a
/// single thread at a time.
public final class StreamConnection {
    let descriptor: Int32

    init(descriptor: Int32) { self.descriptor = descriptor }

    /// close(2). With input still unread the kernel resets the connection
    /// (RST), which can destroy an answer the peer has not read yet: read
    /// what the peer still sends (`receive`) after `shutdownWriting()`
    /// before letting go of a connection that was answered.
    deinit { close(descriptor) }

    /// Readable when bytes (or the end of the stream) have arrived,
    /// writable when the send buffer has room.
    public var pollTarget: PollTarget { PollTarget(descriptor: descriptor) }

    public enum Received: Equatable, Sendable {
        case bytes([UInt8])
        /// Nothing has arrived yet (`EAGAIN`).
        case nothingYet
        /// The peer shut down its side: nothing more will arrive.
        case endOfStream
    }

    /// recv(2) of at most `limit` bytes (at least 1) without waiting,
    /// retried on `EINTR`. A reset or other error is thrown.
    public func receive(upTo limit: Int) throws(SystemError) -> Received {
        var buffer = [UInt8](repeating: 0, count: max(1, limit))
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
            if count > 0 { return .bytes(Array(buffer[..<count])) }
            if count == 0 { return .endOfStream }
            switch errno {
            case EINTR: continue
            case EAGAIN, EWOULDBLOCK: return .nothingYet
            default: throw SystemError("receive from", "a TCP connection")
            }
        }
    }

    /// send(2) with `MSG_NOSIGNAL | MSG_DONTWAIT` (a peer gone away is an
    /// error, not a SIGPIPE), retried on `EINTR`. Returns how many of
    /// `bytes` went out: 0 when the send buffer is full (`EAGAIN`). A reset
    /// or other error is thrown.
    public func send(_ bytes: ArraySlice<UInt8>) throws(SystemError) -> Int {
        while true {
            let sent = bytes.withUnsafeBytes {
                Glibc.send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL) | Int32(MSG_DONTWAIT))
            }
            if sent >= 0 { return sent }
            switch errno {
            case EINTR: continue
            case EAGAIN, EWOULDBLOCK: return 0
            default: throw SystemError("send to", "a TCP connection")
            }
        }
    }

    /// shutdown(2) with `SHUT_WR`: the peer reads the end of the stream
    /// after what was sent; receiving goes on.
    public func shutdownWriting() {
        shutdown(descriptor, Int32(SHUT_WR))
    }
}
