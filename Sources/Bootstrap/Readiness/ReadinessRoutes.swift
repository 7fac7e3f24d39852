/// The readiness endpoint's three routes. `/status` serves the network view
/// of the status (no journal lines, no URL queries).
public enum ReadinessRoutes {
    public static func router(_ board: StatusBoard) -> ReadinessServer.Router {
        { path in
            let status = board.snapshot
            switch path {
            case "/readyz":
                return status.isReady ? .init(status: 200, body: "ready\n") : .init(status: 503, body: "not ready: \(status.networkView.summary)\n")
            case "/livez":
                return .init(status: 200, body: "alive\n")
            case "/status":
                let body = (try? StatusEncoding.json(status.networkView)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
                return .init(status: 200, contentType: "application/json", body: body + "\n")
            default:
                return .init(status: 404, body: "not found: try /readyz, /livez or /status\n")
            }
        }
    }
}
