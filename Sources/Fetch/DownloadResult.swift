// What a successful download did. Codable: a download run in another
// process (the daemon's fetch worker) reports it as JSON.

public struct DownloadResult: Sendable, Equatable, Codable {
    public enum Outcome: Sendable, Equatable, Codable {
        /// A new file was installed at the destination.
        case downloaded
        /// The server answered 304: the file at the destination is current.
        case notModified
    }

    public var outcome: Outcome
    /// Body bytes received over the network, over all attempts (0 for a 304).
    public var bytesTransferred: Int64
    /// Status of the last response (200, 206 or 304).
    public var httpStatus: Int
    /// ETag of the file at the destination, if the server sent one.
    public var etag: String?
    /// Hex SHA-256 of the file now at the destination, checked against the
    /// one the request expected; nil when it expected none (no byte is
    /// hashed for nothing, so a download runs at the transfer's speed).
    public var sha256: String?
    public var duration: Duration
    /// HTTP requests made, the first included.
    public var attempts: Int

    public init(
        outcome: Outcome, bytesTransferred: Int64, httpStatus: Int, etag: String?,
        sha256: String?, duration: Duration, attempts: Int
    ) {
        self.outcome = outcome
        self.bytesTransferred = bytesTransferred
        self.httpStatus = httpStatus
        self.etag = etag
        self.sha256 = sha256
        self.duration = duration
        self.attempts = attempts
    }
}
