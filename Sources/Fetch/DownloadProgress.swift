// A progress report, turned by the daemon into a systemd STATUS line.

public struct DownloadProgress: Sendable, Equatable {
    /// Bytes of the file so far, a resumed prefix included. Goes back to 0
    /// only when a server refuses to resume and the file restarts.
    public var bytes: Int64
    /// Size of the whole file, when the server said.
    public var totalBytes: Int64?
    /// Average rate of the current attempt.
    public var bytesPerSecond: Double

    public init(bytes: Int64, totalBytes: Int64?, bytesPerSecond: Double) {
        self.bytes = bytes
        self.totalBytes = totalBytes
        self.bytesPerSecond = bytesPerSecond
    }

    /// 0...1 when the total is known.
    public var fraction: Double? {
        guard let totalBytes, totalBytes > 0 else { return nil }
        return min(1, Double(bytes) / Double(totalBytes))
    }
}
