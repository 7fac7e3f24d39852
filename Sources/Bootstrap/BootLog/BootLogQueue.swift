/// The lines waiting to be sent, bounded by what a boot may send at all:
/// at most `capacity` lines per boot, the last of them saying that the
/// rest is in the journal. A line that `replaces` a waiting one takes its
/// place instead of a new one (the latest progress of a download), so a
/// long wait for Coder does not fill the log with stale percentages.
struct BootLogQueue: Sendable {
    let capacity: Int
    private(set) var waiting: [BootLogLine] = []
    /// Lines taken in so far this boot, the notice included.
    private(set) var admitted = 0
    /// Lines turned away because the capacity was reached.
    private(set) var dropped = 0

    init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    static let notice = "the boot log has reached its limit of lines; the rest is in the journal: journalctl -u coder-vm-bootstrap"

    var isEmpty: Bool { waiting.isEmpty }

    /// Whether something now waits that did not before (the sender has news).
    @discardableResult
    mutating func append(_ line: BootLogLine) -> Bool {
        if let key = line.replaces, let index = waiting.firstIndex(where: { $0.replaces == key }) {
            waiting.remove(at: index)
            waiting.append(line)
        } else if admitted < capacity - 1 {
            waiting.append(line)
            admitted += 1
        } else if admitted == capacity - 1 {
            waiting.append(BootLogLine(.warn, Self.notice, at: line.createdAt))
            admitted += 1
            dropped += 1
        } else {
            dropped += 1
            return false
        }
        return true
    }

    /// Takes up to `count` of the oldest waiting lines, to send.
    mutating func take(_ count: Int) -> [BootLogLine] {
        let taken = Array(waiting.prefix(max(0, count)))
        waiting.removeFirst(taken.count)
        return taken
    }
}
