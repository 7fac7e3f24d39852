import Logging
import WorkspaceSpec

extension ComponentContext {
    /// A context outside the daemon (a unit's ExecStartPre): its events
    /// become lines on standard error, which the unit's journal keeps. The
    /// process is short-lived, so its downloads run in it.
    public static func standalone(
        spec: WorkspaceSpec, host: HostDetection, component: ComponentName, logger: Logger,
        report: @escaping @Sendable (String) -> Void
    ) -> ComponentContext {
        let paths = Paths()
        let caBundle = (spec.coder?.caCertificates.isEmpty ?? true) ? nil : paths.caBundle
        return ComponentContext(
            spec: spec, host: host, paths: paths, logger: logger,
            downloads: DownloadService(spec: spec, extraCABundle: caBundle, runner: .inProcess),
            events: ComponentEvents(component, sink: LineEvents(report: report)))
    }
}

/// Events as plain lines: progress and download outcomes only.
struct LineEvents: ComponentEventSink {
    let report: @Sendable (String) -> Void

    func record(_ event: ComponentEvent, for component: ComponentName) {
        switch event {
        case .progress(let line): report(line)
        case .download(.finished(let what, let url, _, let notModified, _)): report("\(what) from \(url): \(notModified ? "current" : "downloaded")")
        case .download(.failed(_, _, let error)): report(error)
        default: break
        }
    }
}
