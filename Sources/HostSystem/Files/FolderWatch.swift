import Glibc

/// Files completed in a folder, through inotify(7): readable (see
/// `pollTarget`) when a file was written and closed, or renamed into the
/// folder — not when it is merely created, when it may still be empty.
public final class FolderWatch: Sendable {  // the descriptor never changes
    let descriptor: Int32
    public let path: String

    /// inotify_init1(2) with `IN_NONBLOCK | IN_CLOEXEC`, then
    /// inotify_add_watch(2) on `path` for IN_CLOSE_WRITE and IN_MOVED_TO.
    public init(_ path: String) throws(SystemError) {
        let fd = inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
        guard fd >= 0 else { throw SystemError("watch", path) }
        guard inotify_add_watch(fd, path, UInt32(IN_CLOSE_WRITE | IN_MOVED_TO)) >= 0 else {
            let error = SystemError("watch", path)
            close(fd)
            throw error
        }
        descriptor = fd
        self.path = path
    }

    /// close(2)
    deinit { close(descriptor) }

    public var pollTarget: PollTarget { PollTarget(descriptor: descriptor) }

    /// read(2) of every pending event, so the watch is not readable again
    /// until something new happens. What happened is then looked at directly.
    public func drain() {
        var buffer = [UInt8](repeating: 0, count: 4096)
        while buffer.withUnsafeMutableBytes({ read(descriptor, $0.baseAddress, $0.count) }) > 0 {}
    }
}
