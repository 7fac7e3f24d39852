import Fetch

/// Sends API calls (see Fetch's `HTTPClient.send`, whose contract every
/// sender keeps): in this process (`HTTPClient`) or each in a fetch worker
/// (`WorkerHTTPClient`), as `DownloadService.apiClient` chooses.
public protocol HTTPCalling: Sendable {
    func send(
        _ method: String, _ url: String, headers: [String: String], body: [UInt8]?, timeout: Duration,
        maxResponseBytes: Int
    ) async throws -> HTTPResponse
}

extension HTTPClient: HTTPCalling {}
