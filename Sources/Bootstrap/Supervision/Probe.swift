import Fetch
import HostSystem

/// Health probes: one bounded socket exchange each, on a thread of its own
/// (it blocks in connect and poll), so the cooperative pool never waits.
/// HTTP here is a single `GET` whose status line is all that is read.
public enum Probe {
    /// Connects and reads the first line; healthy when it starts with `prefix`
    /// (an SSH server's "SSH-2.0-" banner).
    public static func banner(_ endpoint: NetworkEndpoint, prefix: String, timeout: Duration = .seconds(3)) async -> ProbeResult {
        await exchange(endpoint, request: nil, timeout: timeout) { line in
            line.hasPrefix(prefix) ? .healthy : .unhealthy("\(endpoint) answered \"\(line.prefix(40))\" instead of \(prefix)")
        }
    }

    /// `GET path`; healthy when the status is `accept` (default: below 500,
    /// as Coder's app health checks judge).
    public static func http(
        _ endpoint: NetworkEndpoint, path: String, timeout: Duration = .seconds(3),
        accept: @escaping @Sendable (Int) -> Bool = { $0 < 500 }
    ) async -> ProbeResult {
        let request = Array("GET \(path) HTTP/1.0\r\nHost: localhost\r\nUser-Agent: coder-vm-bootstrap\r\n\r\n".utf8)
        return await exchange(endpoint, request: request, timeout: timeout) { line in
            let parts = line.split(separator: " ")
            guard parts.count >= 2, parts[0].hasPrefix("HTTP/"), let status = Int(parts[1]) else {
                return .unhealthy("\(endpoint)\(path) did not answer HTTP")
            }
            return accept(status) ? .healthy : .unhealthy("GET \(path) on \(endpoint) answered \(status)")
        }
    }

    private static func exchange(
        _ endpoint: NetworkEndpoint, request: [UInt8]?, timeout: Duration,
        judge: @escaping @Sendable (String) -> ProbeResult
    ) async -> ProbeResult {
        await runOnDedicatedThread {
            switch SocketExchange.firstLine(endpoint, send: request, timeout: timeout) {
            case .success(let line): judge(line)
            case .failure(let failure): .unhealthy(failure.message)
            }
        }
    }
}
