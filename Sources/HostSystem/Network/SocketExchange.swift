import Glibc

/// Where a probe connects.
public enum NetworkEndpoint: Sendable, Equatable, CustomStringConvertible {
    /// An IP literal (IPv4, or IPv6 without brackets; `localhost` is
    /// 127.0.0.1) and a port.
    case tcp(host: String, port: Int)
    case unixSocket(String)

    public var description: String {
        switch self {
        case .tcp(let host, let port): "\(host):\(port)"
        case .unixSocket(let path): path
        }
    }
}

/// One short blocking exchange on a socket, bounded by a total deadline:
/// connect (non-blocking connect(2), then poll(2)), optionally send a
/// request, return the first line received. Used by health probes; call it
/// from a thread that may block (see `Fetch.runOnDedicatedThread`).
public enum SocketExchange {
    public struct Failure: Error, Equatable, Sendable, CustomStringConvertible {
        public var message: String
        public var description: String { message }
    }

    public static func firstLine(_ endpoint: NetworkEndpoint, send request: [UInt8]?, timeout: Duration) -> Result<String, Failure> {
        let deadline = ContinuousClock.now + timeout
        let fd: Int32
        switch connect(endpoint, timeout: timeout) {
        case .success(let connected): fd = connected
        case .failure(let failure): return .failure(failure)
        }
        defer { close(fd) }
        if let request {
            let sent = request.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard sent == request.count else { return .failure(Failure(message: "\(endpoint): could not send the request")) }
        }
        var line: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 256)
        while line.count < 256 {
            guard wait(fd, for: Int16(POLLIN), until: deadline) else {
                return .failure(Failure(message: "\(endpoint) accepted the connection but said nothing for \(timeout) (hung?)"))
            }
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count < 0, errno == EAGAIN || errno == EINTR { continue }
            if count <= 0 { break }
            line += buffer[..<count]
            if line.contains(UInt8(ascii: "\n")) { break }
        }
        var first = line.prefix { $0 != UInt8(ascii: "\n") }
        if first.last == UInt8(ascii: "\r") { first = first.dropLast() }
        let text = String(decoding: first, as: UTF8.self)
        return text.isEmpty ? .failure(Failure(message: "\(endpoint) closed the connection without answering")) : .success(text)
    }

    /// socket(2) and a non-blocking connect(2) finished by poll(2).
    private static func connect(_ endpoint: NetworkEndpoint, timeout: Duration) -> Result<Int32, Failure> {
        let flags = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue)
        let fd: Int32
        let result: Int32
        switch endpoint {
        case .tcp(let host, let port) where host.contains(":"):
            fd = socket(AF_INET6, flags, 0)
            var address = sockaddr_in6()
            address.sin6_family = sa_family_t(AF_INET6)
            address.sin6_port = in_port_t(UInt16(truncatingIfNeeded: port).bigEndian)
            guard fd >= 0, inet_pton(AF_INET6, host, &address.sin6_addr) == 1 else {
                if fd >= 0 { close(fd) }
                return .failure(Failure(message: "\(host) is not an IPv6 address"))
            }
            result = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) }
            }
        case .tcp(let host, let port):
            fd = socket(AF_INET, flags, 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(truncatingIfNeeded: port).bigEndian)
            guard fd >= 0, inet_pton(AF_INET, host == "localhost" ? "127.0.0.1" : host, &address.sin_addr) == 1 else {
                if fd >= 0 { close(fd) }
                return .failure(Failure(message: "\(host) is not an IPv4 address"))
            }
            result = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
        case .unixSocket(let path):
            fd = socket(AF_UNIX, flags, 0)
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            let bytes = Array(path.utf8)
            guard fd >= 0, bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
                if fd >= 0 { close(fd) }
                return .failure(Failure(message: "socket path too long: \(path)"))
            }
            withUnsafeMutableBytes(of: &address.sun_path) { raw in
                for (index, byte) in bytes.enumerated() { raw[index] = byte }
            }
            result = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
            }
        }
        if result == 0 { return .success(fd) }
        guard errno == EINPROGRESS || errno == EAGAIN else {
            let message = "cannot connect to \(endpoint): \(SystemError.describe(errno))"
            close(fd)
            return .failure(Failure(message: message))
        }
        guard wait(fd, for: Int16(POLLOUT), until: ContinuousClock.now + timeout) else {
            close(fd)
            return .failure(Failure(message: "connecting to \(endpoint) timed out after \(timeout)"))
        }
        var error: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length)
        guard error == 0 else {
            close(fd)
            return .failure(Failure(message: "cannot connect to \(endpoint): \(SystemError.describe(error))"))
        }
        return .success(fd)
    }

    /// poll(2) for `events` until `deadline`.
    static func wait(_ fd: Int32, for events: Int16, until deadline: ContinuousClock.Instant) -> Bool {
        while true {
            let left = ContinuousClock.now.duration(to: deadline)
            if left <= .zero { return false }
            var entry = pollfd(fd: fd, events: events, revents: 0)
            let milliseconds = Int32(left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000 + 1)
            let ready = poll(&entry, 1, milliseconds)
            if ready > 0 { return true }
            if ready < 0, errno == EINTR { continue }
            return false
        }
    }
}
