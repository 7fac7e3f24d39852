import CLinuxExtensions
import Glibc

/// A TCP socket listening on every address of the machine, IPv6 and IPv4
/// alike, that never blocks: wait for it with `Poll.wait`, then take the
/// waiting connections with `accept()`.
public final class ListeningSocket: Sendable {  // the descriptor never changes; accept4(2) on it is thread-safe
    let descriptor: Int32
    /// The port it listens on (the one the kernel chose when asked for 0).
    public let port: Int

    /// socket(2) `AF_INET6` with `SOCK_NONBLOCK | SOCK_CLOEXEC`;
    /// setsockopt(2) `SO_REUSEADDR` on (a restarted daemon binds while
    /// connections of the last one linger) and `IPV6_V6ONLY` off (IPv4
    /// clients arrive as ::ffff:a.b.c.d); bind(2) to `in6addr_any` and
    /// `port` (0: any free port); listen(2) with `backlog`; getsockname(2)
    /// for the port bound.
    public init(tcpPort port: Int, backlog: Int32 = SOMAXCONN) throws(SystemError) {
        let what = "TCP port \(port)"
        guard (0...65535).contains(port) else { throw SystemError("listen on", what, code: EINVAL, reason: "not a port number") }
        let fd = socket(AF_INET6, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw SystemError("open a socket for", what) }
        var on: Int32 = 1, off: Int32 = 0
        let optionLength = socklen_t(MemoryLayout<Int32>.size)
        guard setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, optionLength) == 0,
            setsockopt(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, &off, optionLength) == 0
        else {
            let error = SystemError("set socket options for", what)
            close(fd)
            throw error
        }
        var address = sockaddr_in6()
        address.sin6_family = sa_family_t(AF_INET6)
        address.sin6_port = in_port_t(UInt16(port).bigEndian)
        address.sin6_addr = in6addr_any
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) }
        }
        guard bound == 0, listen(fd, backlog) == 0 else {
            let error = SystemError("listen on", what)
            close(fd)
            throw error
        }
        var actual = sockaddr_in6()
        var length = socklen_t(MemoryLayout<sockaddr_in6>.size)
        let named = withUnsafeMutablePointer(to: &actual) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard named == 0 else {
            let error = SystemError("read the address of", what)
            close(fd)
            throw error
        }
        self.descriptor = fd
        self.port = Int(UInt16(bigEndian: actual.sin6_port))
    }

    /// close(2): stops listening; clients connecting after it are refused.
    deinit { close(descriptor) }

    /// Readable when a connection is waiting.
    public var pollTarget: PollTarget { PollTarget(descriptor: descriptor) }

    /// accept4(2) with `SOCK_NONBLOCK | SOCK_CLOEXEC`: the next connection
    /// waiting, or nil when none is (`EAGAIN`). A connection that failed
    /// before it could be taken (`ECONNABORTED`, or one of the network
    /// errors accept4(2) passes on from the new socket) is skipped, as is an
    /// interruption (`EINTR`); anything else (out of descriptors: `EMFILE`,
    /// `ENFILE`; out of memory) is thrown and leaves the connection waiting.
    public func accept() throws(SystemError) -> StreamConnection? {
        while true {
            let fd = clinux_accept4(descriptor, Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue))
            if fd >= 0 { return StreamConnection(descriptor: fd) }
            switch errno {
            case EAGAIN, EWOULDBLOCK: return nil
            case EINTR, ECONNABORTED, EPROTO, ENETDOWN, ENOPROTOOPT, EHOSTDOWN, ENONET, EHOSTUNREACH, EOPNOTSUPP, ENETUNREACH:
                continue
            default:
                throw SystemError("accept a connection on", "TCP port \(port)")
            }
        }
    }
}
