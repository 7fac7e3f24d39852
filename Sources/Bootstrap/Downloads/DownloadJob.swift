import Fetch

/// One download as data, so that it can run in another process (the
/// daemon's fetch worker) as well as in this one: where from, where to,
/// how to check it, and what to do with the body (the workspace's bounds on
/// every download are in `DownloadNetwork`). Headers may carry credentials:
/// a job travels as JSON on the worker's standard input, never in its
/// arguments.
public struct DownloadJob: Codable, Sendable, Equatable {
    public var url: String
    /// Absolute path of the installed file (see `DownloadRequest.destination`);
    /// the partial download ".<name>.part" beside it survives the process
    /// and is resumed by the next run.
    public var destination: String
    /// Hex SHA-256 the file must have; nil to skip.
    public var expectedSHA256: String?
    /// Mode of the installed file.
    public var mode: UInt32
    public var revalidation: Revalidation
    /// Extra request headers (a session token).
    public var headers: [String: String]
    public var body: Body

    /// What happens to the body besides being installed at `destination`.
    public enum Body: Codable, Sendable, Equatable {
        /// Nothing: it is installed as it is.
        case install
        /// A .tar.gz unpacked member by member while it downloads into the
        /// existing, empty folder `staging`, the first `stripComponents`
        /// path components of every member dropped (see `UnpackingConsumer`);
        /// the folder counts only once the download succeeded.
        case unpack(staging: String, stripComponents: Int)
        /// A program for this machine that prints `expectVersionContaining`
        /// for `--version` run as `runAsUser` (never root), checked before
        /// it replaces the installed one (see `ProgramCheck`).
        case verifyProgram(runAsUser: String, expectVersionContaining: String)
    }

    public init(
        url: String, destination: String, expectedSHA256: String? = nil, mode: UInt32 = 0o644,
        revalidation: Revalidation = .storedETag, headers: [String: String] = [:], body: Body = .install
    ) {
        self.url = url
        self.destination = destination
        self.expectedSHA256 = expectedSHA256
        self.mode = mode
        self.revalidation = revalidation
        self.headers = headers
        self.body = body
    }
}
