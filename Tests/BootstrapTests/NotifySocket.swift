import Foundation

/// A datagram socket named by NOTIFY_SOCKET, as systemd provides it, for the
/// duration of one test. Like systemd it reads every datagram as it arrives
/// (a socket left unread blocks the sender once its queue of 10 is full);
/// `received()` returns everything so far.
final class NotifySocket: @unchecked Sendable {
    private let fd: Int32
    private let path: String
    private let lock = NSLock()
    private var messages: [String] = []
    private var reader: Thread?

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
        let thread = Thread { [fd, weak self] in
            var buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                if count <= 0 { return }  // closed by deinit
                self?.append(String(decoding: buffer[..<count], as: UTF8.self))
            }
        }
        thread.start()
        reader = thread
    }

    private func append(_ message: String) {
        lock.lock()
        messages.append(message)
        lock.unlock()
    }

    /// Every datagram received so far, joined; each is returned once.
    func received() -> String {
        // A datagram sent just before this call may still be on its way to the reader.
        for _ in 0..<20 where pendingBytes() > 0 { usleep(1000) }
        lock.lock()
        defer { messages.removeAll(); lock.unlock() }
        return messages.joined(separator: "\n")
    }

    private func pendingBytes() -> Int32 {
        var count: Int32 = 0
        _ = ioctl(fd, UInt(FIONREAD), &count)
        return count
    }

    deinit {
        unsetenv("NOTIFY_SOCKET")
        shutdown(fd, Int32(SHUT_RDWR))
        close(fd)
        unlink(path)
    }
}
