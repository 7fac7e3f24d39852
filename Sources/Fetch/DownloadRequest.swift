// One file to fetch: where from, where to, and how to check it.
#if canImport(Glibc)
import Glibc
#endif

public struct DownloadRequest: Sendable {
    public var url: String
    /// Absolute path of the installed file. Its directory must exist; the
    /// partial download lives beside it as ".<name>.part" and the stored
    /// ETag as ".<name>.etag".
    public var destination: String
    /// Lowercase or uppercase hex SHA-256 the file must have; nil to skip.
    public var expectedSHA256: String?
    /// Mode of the installed file, e.g. 0o755 for a binary.
    public var mode: mode_t
    public var revalidation: Revalidation
    /// Extra request headers, e.g. ["Coder-Session-Token": "..."].
    public var headers: [String: String]
    /// Largest file accepted, a resumed prefix included: a larger announced
    /// size fails before the body, a body without one is cut at the limit
    /// (FetchError.tooLarge). 2 GiB by default.
    public var maxBytes: Int64
    /// Runs on the complete file, after the SHA-256 check and with its final
    /// mode, before it replaces the destination; given the partial file's
    /// path. Throwing refuses the file: it is removed, the destination and
    /// its ETag stay as they were, and download() throws FetchError.refused.
    /// E.g. check that a binary is an executable for this machine, not an
    /// HTML error page served with 200.
    public var verify: (@Sendable (_ completePartPath: String) async throws -> Void)?
    /// Sees the file's bytes while it downloads (see DownloadConsumer).
    public var consumer: (any DownloadConsumer)? {
        get { consumerBox?.consumer }
        set { consumerBox = newValue.map(ConsumerBox.init) }
    }
    private var consumerBox: ConsumerBox?

    /// 2 GiB.
    public static let defaultMaxBytes: Int64 = 2_147_483_648

    public init(
        url: String,
        destination: String,
        expectedSHA256: String? = nil,
        mode: mode_t = 0o644,
        revalidation: Revalidation = .storedETag,
        headers: [String: String] = [:],
        maxBytes: Int64 = DownloadRequest.defaultMaxBytes,
        verify: (@Sendable (_ completePartPath: String) async throws -> Void)? = nil,
        consumer: (any DownloadConsumer)? = nil
    ) {
        self.url = url
        self.destination = destination
        self.expectedSHA256 = expectedSHA256
        self.mode = mode
        self.revalidation = revalidation
        self.headers = headers
        self.maxBytes = maxBytes
        self.verify = verify
        self.consumer = consumer
    }
}

/// Whether to ask the server if the installed file is still current
/// (If-None-Match) instead of downloading it again.
public enum Revalidation: Sendable, Equatable {
    /// Always download.
    case never
    /// Send the ETag saved beside the destination by the previous download
    /// (".<name>.etag", kept across reboots), and save the new one.
    case storedETag
    /// Send this ETag, e.g. the SHA-1 hex Coder uses for its agent binary
    /// (see Digest.hex(.sha1, ofFile:)). Nothing is saved.
    case etag(String)
}
