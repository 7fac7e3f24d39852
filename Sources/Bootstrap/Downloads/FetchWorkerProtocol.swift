import Fetch

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

// How the daemon and its fetch worker (`coder-vm-bootstrap fetch-worker`,
// a child process) talk: the request as one JSON line on the worker's
// standard input (and for a check that waits, `go` when it may run), then
// what happens as JSON lines on its standard output, the last one the end
// (`finished` or `failed` for a download, `answered` or `callFailed` for
// an API call).

/// What the worker is asked to do.
public struct FetchWorkerRequest: Codable, Sendable, Equatable {
    public var network: DownloadNetwork
    public var work: Work
    /// The download's check of the complete file (`verifyProgram`) waits
    /// for a second line, `go`, on the worker's standard input: the daemon
    /// sends it once what the check needs is there (the user it runs as).
    /// The bytes meanwhile download at once.
    public var checkWaitsForGo: Bool
    /// The line that lets a waiting check run.
    static let go = "go"

    public enum Work: Codable, Sendable, Equatable {
        case download(DownloadJob)
        case call(APICall)
    }

    public init(_ work: Work, network: DownloadNetwork, checkWaitsForGo: Bool = false) {
        self.work = work
        self.network = network
        self.checkWaitsForGo = checkWaitsForGo
    }
}

/// One line from the worker: a download's updates, then the end.
public enum FetchWorkerMessage: Codable, Sendable, Equatable {
    case update(DownloadUpdate)
    case finished(DownloadResult)
    case failed(DownloadFailure)
    case answered(APIAnswer)
    /// The call got no complete answer; the error as Fetch's `HTTPClient` threw it.
    case callFailed(FetchError)
}

/// What a running download tells before it ends.
public enum DownloadUpdate: Codable, Sendable, Equatable {
    /// The download began.
    case started
    /// Bytes of the file so far (a resumed prefix included) and its size when known.
    case progress(bytes: Int64, totalBytes: Int64?, bytesPerSecond: Double)
    /// An attempt failed with a server fault; attempt `attempt` follows after `delay`.
    case retryWait(attempt: Int, delay: Duration)
}

/// One API call (see Fetch's `HTTPClient.send`) as data. Its headers may
/// carry the agent token: it travels on the worker's standard input only.
public struct APICall: Codable, Sendable, Equatable {
    public var method: String
    public var url: String
    public var headers: [String: String]
    public var body: Data?
    /// For the whole call, connecting included.
    public var timeout: Duration
    public var maxResponseBytes: Int
}

/// The answer to an `APICall`, whatever its status (`HTTPResponse` as data).
public struct APIAnswer: Codable, Sendable, Equatable {
    public var status: Int
    public var body: Data
    public var location: String?

    init(_ response: HTTPResponse) {
        status = response.status
        body = Data(response.body)
        location = response.location
    }

    var response: HTTPResponse { HTTPResponse(status: status, body: Array(body), location: location) }
}

/// Why a download failed, classified for the supervisor: the kind is sent
/// along, since the error itself (a `FetchError`, an `ArchiveError`) stays
/// in the process that saw it.
public struct DownloadFailure: Error, Codable, Sendable, Equatable, CustomStringConvertible {
    /// `ComponentError.Kind`, as data.
    public enum Fault: String, Codable, Sendable {
        case server, local, configuration

        init(_ kind: ComponentError.Kind) {
            self =
                switch kind {
                case .server: .server
                case .local: .local
                case .configuration: .configuration
                }
        }

        var kind: ComponentError.Kind {
            switch self {
            case .server: .server
            case .local: .local
            case .configuration: .configuration
            }
        }
    }

    public var fault: Fault
    public var description: String

    public init(_ fault: Fault, _ description: String) {
        self.fault = fault
        self.description = description
    }
}
