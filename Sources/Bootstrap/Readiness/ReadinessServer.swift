#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Fetch
import Glibc
import Synchronization

/// The HTTP endpoint for KubeVirt's VMI readinessProbe (and people with curl):
/// `/readyz` 200 or 503, `/livez` 200 while the daemon's loop runs, `/status`
/// the status as JSON (no secrets in it).
///
/// Bounded by construction: one connection at a time on one dedicated
/// thread that sleeps in accept(2) between probes (no CPU when idle), a 2 s
/// read timeout, request heads of at most 4 KiB, GET and HEAD only.
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
    }

    public typealias Router = @Sendable (_ path: String) -> Response

    private let listener: Int32
    public let port: Int
    private let router: Router
    private let stopped = Atomic<Bool>(false)

    public enum StartError: Error, CustomStringConvertible {
        case socket(port: Int, errno: Int32)
        public var description: String {
            switch self {
            case .socket(let port, let code):
                "cannot listen on readiness port \(port): \(String(cString: strerror(code))); choose another readiness.port"
            }
        }
    }

    /// Listens on all addresses (IPv6 and IPv4) at `port` (0: any free port).
    public init(port: Int, router: @escaping Router) throws(StartError) {
        let fd = socket(AF_INET6, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw .socket(port: port, errno: errno) }
        var on: Int32 = 1, off: Int32 = 0
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, socklen_t(MemoryLayout<Int32>.size))
        setsockopt(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, &off, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in6()
        address.sin6_family = sa_family_t(AF_INET6)
        address.sin6_port = in_port_t(UInt16(port).bigEndian)
        address.sin6_addr = in6addr_any
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) }
        }
        guard bound == 0, listen(fd, 16) == 0 else {
            let code = errno
            close(fd)
            throw .socket(port: port, errno: code)
        }
        var actual = sockaddr_in6()
        var length = socklen_t(MemoryLayout<sockaddr_in6>.size)
        _ = withUnsafeMutablePointer(to: &actual) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        self.listener = fd
        self.port = Int(UInt16(bigEndian: actual.sin6_port))
        self.router = router
    }

    /// Serves on a thread of its own until the task is cancelled.
    public func run() async {
        await withTaskCancellationHandler {
            await runOnDedicatedThread { self.acceptLoop() }
        } onCancel: {
            stop()
        }
    }

    /// Stops accepting; the thread ends after the connection in hand, if any.
    public func stop() {
        guard !stopped.exchange(true, ordering: .acquiringAndReleasing) else { return }
        shutdown(listener, Int32(SHUT_RDWR))
    }

    deinit { close(listener) }

    private func acceptLoop() {
        while !stopped.load(ordering: .acquiring) {
            let connection = accept(listener, nil, nil)
            if connection < 0 {
                if errno == EINTR || errno == ECONNABORTED { continue }
                if stopped.load(ordering: .acquiring) { return }
                continue
            }
            _ = fcntl(connection, F_SETFD, FD_CLOEXEC)
            serve(connection)
            drainAndClose(connection)
        }
    }

    private func serve(_ connection: Int32) {
        var timeout = timeval(tv_sec: 2, tv_usec: 0)
        setsockopt(connection, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(connection, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var received: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1024)
        let response: Response
        var headOnly = false
        while true {
            let count = chunk.withUnsafeMutableBytes { recv(connection, $0.baseAddress, $0.count, 0) }
            if count <= 0 { return }  // closed, reset or timed out: nothing to answer
            received += chunk[..<count]
            do {
                let head = try HTTPRequestHead.parse(received)
                headOnly = head.method == "HEAD"
                response = handle(head)
                break
            } catch .incomplete {
                continue
            } catch .tooLarge {
                response = Response(status: 431, body: "request head too large\n")
                break
            } catch {
                response = Response(status: 400, body: "bad request\n")
                break
            }
        }
        send(response, headOnly: headOnly, to: connection)
    }

    /// Closing with unread input makes the kernel send a reset that can
    /// destroy the answer in flight (a 431 after 4 KiB of a larger head), so
    /// read what is left, bounded by size and the read timeout, first.
    private func drainAndClose(_ connection: Int32) {
        shutdown(connection, Int32(SHUT_WR))
        var discard = [UInt8](repeating: 0, count: 4096)
        for _ in 0..<16 {
            let count = discard.withUnsafeMutableBytes { recv(connection, $0.baseAddress, $0.count, 0) }
            if count <= 0 { break }
        }
        close(connection)
    }

    private func handle(_ head: HTTPRequestHead) -> Response {
        guard head.method == "GET" || head.method == "HEAD" else {
            return Response(status: 405, body: "only GET\n")
        }
        return router(head.path)
    }

    private func send(_ response: Response, headOnly: Bool, to connection: Int32) {
        let reason = [200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed",
                      431: "Request Header Fields Too Large", 503: "Service Unavailable"][response.status] ?? "Status"
        let head = "HTTP/1.1 \(response.status) \(reason)\r\nContent-Type: \(response.contentType)\r\n"
            + "Content-Length: \(response.body.count)\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n"
        var bytes = Array(head.utf8)
        if !headOnly { bytes += response.body }
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes { Glibc.send(connection, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if sent <= 0 { return }
            offset += sent
        }
    }
}
