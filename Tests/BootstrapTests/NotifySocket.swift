import Foundation

/// A datagram socket named by NOTIFY_SOCKET, as systemd provides it, for the
/// duration of one test. Like systemd it reads every datagram as it arrives
/// (a socket left unread blocks the sender once its queue of 10 is full);
/// `received()` returns everything sent before the call.
final class NotifySocket: @unchecked Sendable {
    private let fd: Int32
    private let path: String
    private let condition = NSCondition()
    private var messages: [String] = []
    private var barriers = 0

    init() throws {
        path = NSTemporaryDirectory() + "notify-\(UUID().uuidString.prefix(8))"
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        var address = Self.address(path)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard bound == 0 else { throw POSIXError(.EADDRINUSE) }
        setenv("NOTIFY_SOCKET", path, 1)
        Thread { [fd, weak self] in
            var buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                if count <= 0 { return }  // closed by deinit
                self?.append(String(decoding: buffer[..<count], as: UTF8.self))
            }
        }.start()
    }

    private func append(_ message: String) {
        condition.lock()
        messages.append(message)
        condition.broadcast()
        condition.unlock()
    }

    /// Every datagram sent before this call, joined; each is returned once.
    /// A marker datagram is sent and waited for: datagrams on one socket
    /// arrive in order, so once it is read, everything before it has been.
    func received() -> String {
        condition.lock()
        barriers += 1
        let marker = "test-barrier-\(barriers)"
        condition.unlock()
        send(marker)
        condition.lock()
        defer { condition.unlock() }
        while !messages.contains(marker) { condition.wait() }
        let before = messages.prefix { $0 != marker }
        messages.removeAll()
        return before.joined(separator: "\n")
    }

    private func send(_ message: String) {
        let client = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        defer { close(client) }
        var address = Self.address(path)
        _ = message.utf8CString.withUnsafeBufferPointer { bytes in
            withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(client, bytes.baseAddress, bytes.count - 1, 0, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
                }
            }
        }
    }

    private static func address(_ path: String) -> sockaddr_un {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in path.utf8.enumerated() { raw[index] = byte }
        }
        return address
    }

    deinit {
        unsetenv("NOTIFY_SOCKET")
        shutdown(fd, Int32(SHUT_RDWR))
        close(fd)
        unlink(path)
    }
}
