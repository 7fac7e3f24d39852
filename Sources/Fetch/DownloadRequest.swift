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

    public init(
        url: String,
        destination: String,
        expectedSHA256: String? = nil,
        mode: mode_t = 0o644,
        revalidation: Revalidation = .storedETag,
        headers: [String: String] = [:]
    ) {
        self.url = url
        self.destination = destination
        self.expectedSHA256 = expectedSHA256
        self.mode = mode
        self.revalidation = revalidation
        self.headers = headers
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
