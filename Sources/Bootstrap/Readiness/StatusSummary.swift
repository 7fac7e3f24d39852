/// systemd's STATUS= line: the phase once, then what each component that is
/// not ready is doing, then the ready ones — for a person running
/// `systemctl status`. Components waiting for the same thing share a clause
/// ("code-server, agent waiting for user").
public enum StatusSummary {
    public static func line(for status: WorkspaceStatus) -> String {
        let enabled = status.components.filter { $0.state != .disabled }
        let ready = enabled.filter { $0.state == .ready }.map(\.name.rawValue)
        let readyClause = ready.isEmpty ? nil : "ready: " + ready.joined(separator: " ")
        switch status.phase {
        case .ready: return readyClause ?? "ready"
        case .stopping: return "stopping"
        case .starting, .degraded, .failed: break
        }
        var clauses: [(names: [String], what: String)] = []
        for component in enabled where component.state != .ready {
            let what = describe(component)
            if let index = clauses.firstIndex(where: { $0.what == what && component.state == .pending }) {
                clauses[index].names.append(component.name.rawValue)
            } else {
                clauses.append(([component.name.rawValue], what))
            }
        }
        let parts = clauses.map { "\($0.names.joined(separator: ", ")) \($0.what)" } + (readyClause.map { [$0] } ?? [])
        return "\(status.phase.rawValue): " + parts.joined(separator: "; ")
    }

    private static func describe(_ component: ComponentStatus) -> String {
        switch component.state {
        case .failed: "failed: \(shortened(component.lastError ?? "see the journal"))"
        default: shortened(component.detail ?? component.state.rawValue)
        }
    }

    /// systemd shows STATUS= on one line of a terminal.
    private static func shortened(_ text: String) -> String {
        text.count > 160 ? String(text.prefix(157)) + "..." : text
    }
}
