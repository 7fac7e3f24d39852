import Bootstrap

/// `status --line`: the workspace in one short line without colour, for a
/// `coder_agent` metadata block or a shell prompt: "ready",
/// "starting: code-server downloading 41% of 120.0 MB", "degraded: agent failed".
enum StatusLine {
    static let maximumLength = 120

    static func text(_ status: WorkspaceStatus?) -> String {
        guard let status else { return "not running" }
        let unwell = status.components.filter { $0.state != .disabled && $0.state != .ready }
        let parts: [String]
        switch status.phase {
        case .ready, .stopping: parts = []
        case .starting: parts = unwell.map(starting)
        case .degraded, .failed: parts = unwell.map(unwellText)
        }
        let line = parts.isEmpty ? status.phase.rawValue : "\(status.phase.rawValue): " + parts.joined(separator: "; ")
        return line.terminalSafe.truncated(to: maximumLength)
    }

    /// "code-server downloading 41% of 120.0 MB", "agent waiting for coder.example.com".
    private static func starting(_ component: ComponentStatus) -> String {
        if let progress = component.progress { return "\(component.name.rawValue) downloading \(StatusFormat.amount(progress))" }
        if component.state == .failed { return unwellText(component) }
        return "\(component.name.rawValue) \(component.detail ?? component.state.rawValue)"
    }

    /// "agent failed: exit status 3", "docker unhealthy".
    private static func unwellText(_ component: ComponentStatus) -> String {
        let text = "\(component.name.rawValue) \(component.state.rawValue)"
        guard component.state == .failed, let error = component.lastError else { return text }
        return "\(text): \(error)"
    }
}
