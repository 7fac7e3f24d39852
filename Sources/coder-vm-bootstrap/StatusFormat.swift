import Bootstrap

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The pieces every human view of the status shares: durations, sizes,
/// progress, and text from the status file made safe to print.
enum StatusFormat {
    /// "4s", "1m02s", "1h03m": short enough for a fixed column.
    static func duration(seconds: Int) -> String {
        let seconds = max(0, seconds)
        if seconds < 60 { return "\(seconds)s" }
        if seconds < 3600 { return "\(seconds / 60)m\(twoDigits(seconds % 60))s" }
        return "\(seconds / 3600)h\(twoDigits(seconds / 60 % 60))m"
    }

    /// Whole seconds from `start` to `end` (0 if the clocks disagree).
    static func seconds(from start: Date, to end: Date) -> Int {
        max(0, Int(end.timeIntervalSince(start)))
    }

    /// "4.1 s" from milliseconds.
    static func seconds(milliseconds: Int) -> String { "\(tenths(Double(milliseconds) / 1000)) s" }

    /// Decimal megabytes with one decimal ("49.2"), as the daemon's own
    /// progress lines count them.
    static func megabytes(_ bytes: Int64) -> String { tenths(Double(bytes) / 1_000_000) }

    /// Whole percent, rounded down: 100 only when the download is complete.
    static func percent(_ fraction: Double) -> Int { Int((min(1, max(0, fraction)) * 100).rounded(.down)) }

    /// `[########------------]`: ASCII, so a serial console without UTF-8 shows it too.
    static func bar(_ fraction: Double, width: Int = 20) -> String {
        let filled = Int((min(1, max(0, fraction)) * Double(width)).rounded(.down))
        return "[" + String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled) + "]"
    }

    /// "41% of 120.0 MB" (or "49.2 MB" when the server sent no length).
    static func amount(_ progress: ComponentProgress) -> String {
        guard let total = progress.totalBytes, let fraction = progress.fraction else {
            return "\(megabytes(progress.bytes)) MB"
        }
        return "\(percent(fraction))% of \(megabytes(total)) MB"
    }

    /// "3.1 MB/s".
    static func rate(_ progress: ComponentProgress) -> String { "\(megabytes(Int64(progress.bytesPerSecond))) MB/s" }

    private static func twoDigits(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }

    private static func tenths(_ value: Double) -> String {
        let tenths = Int((max(0, value) * 10).rounded())
        return "\(tenths / 10).\(tenths % 10)"
    }
}

extension String {
    /// This text with control characters (C0, DEL, C1) replaced by "?" and
    /// tabs and line breaks by spaces: whatever a component's journal or a
    /// server put in the status file reaches a terminal as text, never as
    /// escape sequences, and one field stays on one line.
    var terminalSafe: String {
        var scalars = String.UnicodeScalarView()
        for scalar in unicodeScalars {
            switch scalar.value {
            case 0x09, 0x0A, 0x0D: scalars.append(" ")
            case 0x00...0x1F, 0x7F...0x9F: scalars.append("?")
            default: scalars.append(scalar)
            }
        }
        return String(scalars)
    }

    /// At most `width` characters; a cut line ends in "...".
    func truncated(to width: Int) -> String {
        guard count > width else { return self }
        guard width > 3 else { return String(prefix(max(0, width))) }
        return prefix(width - 3) + "..."
    }

    /// Padded with spaces to `width` characters (at least one space after).
    func padding(_ width: Int) -> String { count >= width ? self + " " : self + String(repeating: " ", count: width - count) }

    /// Padded on the left to `width` characters.
    func leftPadding(_ width: Int) -> String { count >= width ? self : String(repeating: " ", count: width - count) + self }
}
