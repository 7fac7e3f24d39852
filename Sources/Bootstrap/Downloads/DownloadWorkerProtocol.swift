import Fetch

// How the daemon and its download worker (`coder-vm-bootstrap
// download-worker`, a child process) talk: the request as one JSON line on
// the worker's standard input, then what happens as JSON lines on its
// standard output, the last one `finished` or `failed`.

/// What the worker is asked to do.
public struct DownloadWorkerRequest: Codable, Sendable, Equatable {
    public var job: DownloadJob
    public var network: DownloadNetwork

    public init(job: DownloadJob, network: DownloadNetwork) {
        self.job = job
        self.network = network
    }
}

/// One line from the worker: updates, then the end.
public enum DownloadWorkerMessage: Codable, Sendable, Equatable {
    case update(DownloadUpdate)
    case finished(DownloadResult)
    case failed(DownloadFailure)
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

/// Why a download failed, classified for the supervisor: the kind is sent
/// along, since the error itself (a `FetchError`, an `ArchiveError`) stays
/// in the process that saw it.
public struct DownloadFailure: Error, Codable, Sendable, Equatable, CustomStringConvertible {
    /// `ComponentError.Kind`, as data.
    public enum Fault: String, Codable, Sendable {
        case server, local, configuration

        init(_ kind: ComponentError.Kind) {
            self = switch kind {
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
