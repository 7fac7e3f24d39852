/// What an archive may contain and how big it may get. The default limits
/// are generous guesses for a code-server release (not measured against a
/// real one here); lower them once its real size is known.
public struct ArchivePolicy: Sendable {
    /// Leading components removed from every name, like tar's
    /// --strip-components; they must be the same for all members.
    public var stripComponents: Int
    /// At most this many members, and this many paths in the tree (members
    /// plus the parent folders they imply).
    public var maxEntries: Int
    /// Sum of the regular files' sizes, checked at each header, before its data.
    public var maxUnpackedBytes: Int64
    /// The whole decompressed tar stream (headers, padding, data): the cap
    /// that stops a decompression bomb.
    public var maxDecompressedBytes: Int64
    /// One GNU long name or pax header.
    public var maxExtensionBytes: Int

    public init(
        stripComponents: Int = 0, maxEntries: Int = 200_000, maxUnpackedBytes: Int64 = 2 << 30,
        maxDecompressedBytes: Int64 = 3 << 30, maxExtensionBytes: Int = 64 << 10
    ) {
        precondition(
            stripComponents >= 0 && maxEntries >= 0 && maxUnpackedBytes >= 0
                && maxDecompressedBytes >= 0 && maxExtensionBytes >= 0)
        self.stripComponents = stripComponents
        self.maxEntries = maxEntries
        self.maxUnpackedBytes = maxUnpackedBytes
        self.maxDecompressedBytes = maxDecompressedBytes
        self.maxExtensionBytes = maxExtensionBytes
    }

    /// The mode a directory or file is created with: the permission bits
    /// without setuid, setgid, sticky, group write and world write, so at
    /// most 0755 (0644 for a file nobody may execute).
    public static func sanitisedMode(_ stored: UInt32) -> UInt16 {
        UInt16(stored & 0o755)
    }
}
