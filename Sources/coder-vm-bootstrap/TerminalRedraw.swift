/// Redraws a block of lines in place with plain ANSI (ECMA-48) sequences:
/// cursor up (CSI n A), erase line (CSI 2 K), erase below (CSI J). No
/// curses or terminfo: every terminal reached over ssh or a serial console
/// understands these. Lines must already fit the terminal's width, or the
/// block would wrap and moving up by its line count would miss its top.
struct TerminalRedraw {
    /// The block on screen (the cursor is just below it).
    private var shown: [String] = []

    static let escape = "\u{1B}["

    /// What to write to replace the block on screen with `lines`; nothing
    /// when they are the lines already shown.
    mutating func draw(_ lines: [String]) -> String {
        guard lines != shown else { return "" }
        var out = up()
        for line in lines { out += Self.escape + "2K" + line + "\n" }
        out += Self.escape + "J"
        shown = lines
        return out
    }

    /// What to write to remove the block, leaving the cursor where it began.
    mutating func erase() -> String {
        guard !shown.isEmpty else { return "" }
        let out = up() + Self.escape + "J"
        shown = []
        return out
    }

    private func up() -> String { shown.isEmpty ? "" : "\r" + Self.escape + "\(shown.count)A" }
}
