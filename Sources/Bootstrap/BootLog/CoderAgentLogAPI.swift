import Fetch

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Coder's agent log API, the calls and answers of coderd's
/// `workspaceAgentPostLogSource` and `patchWorkspaceAgentLogs`
/// (codersdk/agentsdk `PostLogSourceRequest`, `PatchLogs`, `Log`):
///
///     POST  /api/v2/workspaceagents/me/log-source  {"id", "display_name", "icon"}  -> 201, also when it exists
///     PATCH /api/v2/workspaceagents/me/logs        {"log_source_id", "logs": [{"created_at", "level", "output"}]}  -> 200
///
/// Both with the agent token in `Coder-Session-Token` (the only place it is
/// ever put) and the agent's extra headers. coderd answers 401 until the
/// provisioner job that made the agent has finished, and for a token that
/// no longer belongs to the workspace's latest build; older coderd answer
/// 403 "non-latest build"; 413 once the agent's logs reached their limit.
struct CoderAgentLogAPI: Sendable {
    enum Reply: Equatable, Sendable {
        case accepted
        /// 401, with coderd's message.
        case notAuthorized(String)
        /// 403, with coderd's message.
        case forbidden(String)
        /// 400: coderd refused these lines (not worth sending again).
        case refusedLines(String)
        /// Nothing more can be sent: no such API (404), the agent's log
        /// limit reached (413), a redirect elsewhere.
        case closed(String)
        /// Worth trying again later: the network, TLS, a 5xx.
        case failed(String)
    }

    /// In this process or a fetch worker (see `DownloadService.apiClient`).
    let client: any HTTPCalling
    /// The agent's URL (`coder.effectiveAgentURL`), ending in "/".
    let baseURL: String
    let token: String
    let extraHeaders: [String: String]
    let timeout: Duration

    func registerSource(id: String) async -> Reply {
        let body = LogSourceRequest(id: id, displayName: BootLogSource.displayName, icon: BootLogSource.icon)
        return await call("POST", "api/v2/workspaceagents/me/log-source", body, accepted: [200, 201])
    }

    func send(_ lines: [BootLogLine], source: String) async -> Reply {
        let body = PatchLogsRequest(
            logSourceID: source,
            logs: lines.map {
                PatchLogsRequest.Log(createdAt: $0.createdAt, output: $0.output, level: $0.level.rawValue)
            })
        return await call("PATCH", "api/v2/workspaceagents/me/logs", body, accepted: [200])
    }

    private func call(_ method: String, _ path: String, _ body: some Encodable, accepted: Set<Int>) async -> Reply {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        var headers = extraHeaders
        headers["Content-Type"] = "application/json"
        headers["Accept"] = "application/json"
        headers["Coder-Session-Token"] = token
        let host = DownloadService.host(of: baseURL)
        do {
            let response = try await client.send(
                method, baseURL + path, headers: headers, body: Array(try encoder.encode(body)),
                timeout: timeout, maxResponseBytes: 64 * 1024)
            if accepted.contains(response.status) { return .accepted }
            let said = Self.message(response)
            switch response.status {
            case 401: return .notAuthorized(said)
            case 403: return .forbidden(said)
            case 400: return .refusedLines("HTTP 400: \(said)")
            case 404: return .closed("\(host) has no agent log API (HTTP 404): this Coder is too old for boot logs")
            case 413: return .closed("Coder keeps no more logs for this agent (HTTP 413: \(said))")
            case 300...399:
                return .closed(
                    "\(host) redirects the agent API to \(shownURL(response.location ?? "?")) (HTTP \(response.status)): "
                        + "set coder.agentURL to where it leads")
            default: return .failed("\(host) answered HTTP \(response.status): \(said)")
            }
        } catch let error as FetchError {
            return .failed(Self.describe(error, method, host))
        } catch {
            return .failed("\(error)")
        }
    }

    /// A call that got no answer, in its own words (FetchError speaks of downloads).
    static func describe(_ error: FetchError, _ method: String, _ host: String) -> String {
        switch error {
        case .transfer where error.isUnknownCertificateAuthority: DownloadService.explain(error, host: host)
        case let .transfer(_, _, detail, _): "\(method) to \(host) failed: \(detail)"
        case let .timedOut(_, detail, _): "\(method) to \(host) timed out: \(detail)"
        default: error.description
        }
    }

    /// coderd's `{"message": ..., "detail": ...}`, its message only (the
    /// detail can be long), or the start of whatever else it sent.
    static func message(_ response: HTTPResponse) -> String {
        struct Message: Decodable { var message: String? }
        let text =
            (try? JSONDecoder().decode(Message.self, from: Data(response.body)))?.message
            ?? String(decoding: response.body.prefix(200), as: UTF8.self)
        let trimmed = text.trimmingWhitespace
        return trimmed.isEmpty ? "no message" : String(trimmed.prefix(200))
    }
}

private struct LogSourceRequest: Encodable {
    var id: String
    var displayName: String
    var icon: String

    enum CodingKeys: String, CodingKey {
        case id
        case displayName = "display_name"
        case icon
    }
}

private struct PatchLogsRequest: Encodable {
    struct Log: Encodable {
        var createdAt: Date
        var output: String
        var level: String

        enum CodingKeys: String, CodingKey {
            case createdAt = "created_at"
            case output, level
        }
    }

    var logSourceID: String
    var logs: [Log]

    enum CodingKeys: String, CodingKey {
        case logSourceID = "log_source_id"
        case logs
    }
}
