import WorkspaceSpec

/// Passes every event to each sink in turn, in the order given: the
/// `StatusBoard` first, so a later sink that reads the board's status sees
/// it after the event.
public struct EventFanOut: ComponentEventSink {
    public let sinks: [any ComponentEventSink]

    public init(_ sinks: [any ComponentEventSink]) {
        self.sinks = sinks
    }

    public func record(_ event: ComponentEvent, for component: ComponentName) {
        for sink in sinks { sink.record(event, for: component) }
    }
}
