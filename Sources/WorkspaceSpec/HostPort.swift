/// `HOST:PORT` or `[V6]:PORT`, the form code-server's `--bind-addr` takes.
public struct HostPort: Equatable, Sendable {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Nil unless `text` has a host and a port of 1 to 65535 in decimal
    /// digits only (`Int` alone would take `+80`).
    public init?(_ text: String) {
        let hostPart: Substring, portPart: Substring
        if text.hasPrefix("["), let close = text.firstIndex(of: "]") {
            hostPart = text[text.index(after: text.startIndex)..<close]
            let after = text[text.index(after: close)...]
            guard after.hasPrefix(":") else { return nil }
            portPart = after.dropFirst()
        } else {
            guard let colon = text.lastIndex(of: ":") else { return nil }
            hostPart = text[..<colon]
            portPart = text[text.index(after: colon)...]
        }
        guard !hostPart.isEmpty, (1...5).contains(portPart.utf8.count),
            portPart.utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }),
            let port = Int(portPart), (1...65535).contains(port)
        else { return nil }
        host = String(hostPart)
        self.port = port
    }

    /// Only this machine can connect: `localhost`, an address in
    /// 127.0.0.0/8, or ::1, parsed as addresses (`127.evil.example` is a
    /// host name anyone can point anywhere, not loopback).
    public var isLoopback: Bool {
        host.lowercased() == "localhost" || IPAddress(host)?.isLoopback == true
    }
}
