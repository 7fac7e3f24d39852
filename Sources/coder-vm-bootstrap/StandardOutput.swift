import Glibc

/// Standard output as the status views need it, over the C calls on fd 1:
/// write(2) (no `FILE *` buffer, so a line reaches a pipe the moment it is
/// written), isatty(3) and ioctl(2) TIOCGWINSZ.
enum StandardOutput {
    /// Writes all of `text`, retrying short writes and EINTR.
    static func write(_ text: String) {
        var bytes = Array(text.utf8)[...]
        while !bytes.isEmpty {
            let written = bytes.withUnsafeBytes { Glibc.write(1, $0.baseAddress, $0.count) }
            if written < 0 {
                if errno == EINTR { continue }
                return
            }
            bytes = bytes.dropFirst(written)
        }
    }

    /// isatty(3): a terminal, not a pipe or a file (a Coder startup-script log).
    static var isTerminal: Bool { isatty(1) == 1 }

    /// ioctl(2) TIOCGWINSZ: the terminal's size; nil when it does not say
    /// (not a terminal, or a serial console that reports 0 x 0).
    static var windowSize: (columns: Int, rows: Int)? {
        var size = winsize()
        guard ioctl(1, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0, size.ws_row > 0 else { return nil }
        return (Int(size.ws_col), Int(size.ws_row))
    }
}
