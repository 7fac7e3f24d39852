import Fetch
import Logging

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// API calls each sent by a fetch worker of its own (see
/// `FetchWorkerProcess`), so that the daemon never maps libcurl for them.
/// The call, its token header included, goes to the worker on its standard
/// input; the answer, or the `FetchError` Fetch's `HTTPClient` threw, comes back.
struct WorkerHTTPClient: HTTPCalling {
    let worker: FetchWorkerProcess
    let network: DownloadNetwork
    let logger: Logger

    func send(
        _ method: String, _ url: String, headers: [String: String], body: [UInt8]?, timeout: Duration,
        maxResponseBytes: Int
    ) async throws -> HTTPResponse {
        let call = APICall(
            method: method, url: url, headers: headers, body: body.map { Data($0) }, timeout: timeout,
            maxResponseBytes: maxResponseBytes)
        return try await worker.send(call, network: network, logger: logger)
    }
}
