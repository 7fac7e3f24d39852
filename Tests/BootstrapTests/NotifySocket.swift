import Foundation


/// A datagram socket named by NOTIFY_SOCKET, as systemd provides it, for the
/// duration of one test: the messages the board sends arrive here verbatim.
final class NotifySocket {
    private let fd: Int32
    private let path: String

    init() throws {
        path = NSTemporaryDirectory() + "notify-\(UUID().uuidString.prefix(8))"
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in path.utf8.enumerated() { raw[index] = byte }
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard bound == 0 else { throw POSIXError(.EADDRINUSE) }
        setenv("NOTIFY_SOCKET", path, 1)
    }

    /// Every datagram waiting now, joined (non-blocking).
    func received() -> String {
        var messages: [String] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
            if count <= 0 { break }
            messages.append(String(decoding: buffer[..<count], as: UTF8.self))
        }
        return messages.joined(separator: "\n")
    }

    deinit {
        unsetenv("NOTIFY_SOCKET")
        close(fd)
        unlink(path)
    }
}
