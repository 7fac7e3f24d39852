import Fetch
import Glibc

/// Health probes over plain sockets, each bounded by a timeout and run on a
/// dedicated thread (they block in connect/recv). HTTP here is a single
/// `GET` whose status line is all that is read.
public enum Probe {
    public enum Endpoint: Sendable, CustomStringConvertible {
        case tcp(host: String, port: Int)
        case unixSocket(String)

        public var description: String {
            switch self {
            case .tcp(let host, let port): "\(host):\(port)"
            case .unixSocket(let path): path
            }
        }
    }

    /// Connects and reads the first line; healthy when it starts with `prefix`
    /// (an SSH server's "SSH-2.0-" banner).
    public static func banner(_ endpoint: Endpoint, prefix: String, timeout: Duration = .seconds(3)) async -> ProbeResult {
        await blocking {
            exchange(endpoint, send: nil, timeout: timeout).map { line in
                line.hasPrefix(prefix) ? .healthy : .unhealthy("\(endpoint) answered \"\(line.prefix(40))\" instead of \(prefix)")
            }
        }
    }

    /// `GET path`; healthy when the status is `accept` (default: below 500,
    /// as Coder's app health checks judge).
    public static func http(_ endpoint: Endpoint, path: String, timeout: Duration = .seconds(3),
                            accept: @escaping @Sendable (Int) -> Bool = { $0 < 500 }) async -> ProbeResult {
        let request = "GET \(path) HTTP/1.0\r\nHost: localhost\r\nUser-Agent: coder-vm-bootstrap\r\n\r\n"
        return await blocking {
            exchange(endpoint, send: request, timeout: timeout).map { line in
                let parts = line.split(separator: " ")
                guard parts.count >= 2, parts[0].hasPrefix("HTTP/"), let status = Int(parts[1]) else {
                    return .unhealthy("\(endpoint)\(path) did not answer HTTP")
                }
                return accept(status) ? .healthy : .unhealthy("GET \(path) on \(endpoint) answered \(status)")
            }
        }
    }

    private static func blocking(_ body: @escaping @Sendable () -> Result<ProbeResult, ProbeFailure>) async -> ProbeResult {
        await runOnDedicatedThread {
            switch body() {
            case .success(let result): result
            case .failure(let failure): .unhealthy(failure.message)
            }
        }
    }

    struct ProbeFailure: Error { var message: String }

    /// Connects, optionally sends, and returns the first line received.
    private static func exchange(_ endpoint: Endpoint, send request: String?, timeout: Duration) -> Result<String, ProbeFailure> {
        let fd: Int32
        switch endpoint {
        case .tcp(let host, let port):
            fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            guard inet_pton(AF_INET, host == "localhost" ? "127.0.0.1" : host, &address.sin_addr) == 1 else {
                close(fd)
                return .failure(ProbeFailure(message: "\(host) is not an IPv4 address"))
            }
            let result = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            if let failure = finishConnect(fd, result, endpoint, timeout) { close(fd); return .failure(failure) }
        case .unixSocket(let path):
            fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            let bytes = Array(path.utf8)
            guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
                close(fd)
                return .failure(ProbeFailure(message: "socket path too long: \(path)"))
            }
            withUnsafeMutableBytes(of: &address.sun_path) { raw in
                for (index, byte) in bytes.enumerated() { raw[index] = byte }
            }
            let result = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
            }
            if let failure = finishConnect(fd, result, endpoint, timeout) { close(fd); return .failure(failure) }
        }
        defer { close(fd) }
        let deadline = ContinuousClock.now + timeout
        if let request {
            let sent = request.utf8CString.withUnsafeBufferPointer { Glibc.send(fd, $0.baseAddress, $0.count - 1, Int32(MSG_NOSIGNAL)) }
            guard sent == request.utf8.count else { return .failure(ProbeFailure(message: "\(endpoint): could not send the request")) }
        }
        var line: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 256)
        while line.count < 256 {
            guard wait(fd, for: Int16(POLLIN), until: deadline) else {
                return .failure(ProbeFailure(message: "\(endpoint) accepted the connection but said nothing for \(timeout) (hung?)"))
            }
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count < 0, errno == EAGAIN || errno == EINTR { continue }
            if count <= 0 { break }
            line += buffer[..<count]
            if line.contains(UInt8(ascii: "\n")) { break }
        }
        let first = line.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).first ?? []
        let text = String(decoding: first, as: UTF8.self).trimmingCharacters(in: "\r")
        return text.isEmpty ? .failure(ProbeFailure(message: "\(endpoint) closed the connection without answering")) : .success(text)
    }

    private static func finishConnect(_ fd: Int32, _ result: Int32, _ endpoint: Endpoint, _ timeout: Duration) -> ProbeFailure? {
        if result == 0 { return nil }
        guard errno == EINPROGRESS || errno == EAGAIN else {
            return ProbeFailure(message: "cannot connect to \(endpoint): \(String(cString: strerror(errno)))")
        }
        guard wait(fd, for: Int16(POLLOUT), until: ContinuousClock.now + timeout) else {
            return ProbeFailure(message: "connecting to \(endpoint) timed out after \(timeout)")
        }
        var error: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length)
        return error == 0 ? nil : ProbeFailure(message: "cannot connect to \(endpoint): \(String(cString: strerror(error)))")
    }

    /// poll(2) for `events` until `deadline`.
    private static func wait(_ fd: Int32, for events: Int16, until deadline: ContinuousClock.Instant) -> Bool {
        while true {
            let left = ContinuousClock.now.duration(to: deadline)
            if left <= .zero { return false }
            var entry = pollfd(fd: fd, events: events, revents: 0)
            let milliseconds = Int32(left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000 + 1)
            let ready = poll(&entry, 1, milliseconds)
            if ready > 0 { return true }
            if ready < 0, errno == EINTR { continue }
            if ready == 0 { return false }
            return false
        }
    }
}

extension String {
    func trimmingCharacters(in character: Character) -> String {
        var text = Substring(self)
        while text.last == character { text = text.dropLast() }
        return String(text)
    }
}
