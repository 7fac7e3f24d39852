/// Why a .tar.gz was not accepted. Each case says where: the member as
/// written in the archive (quoted, control characters escaped) and the
/// offset of its first header block in the uncompressed tar stream, or the
/// offset in the compressed bytes for gzip problems.
public enum ArchiveError: Error, Equatable, Sendable, CustomStringConvertible {
    /// libz.so.1 could not be loaded or refused to start inflating.
    case zlibUnavailable(reason: String)
    /// The gzip layer is corrupt; `reason` is zlib's message.
    case corruptGzip(reason: String, compressedOffset: Int64)
    /// The bytes ended before the gzip stream or the tar archive did.
    case truncated(reason: String)
    /// Decompressing produced more than `limit` bytes: a decompression bomb,
    /// or an archive larger than the policy allows.
    case decompressedSizeLimit(limit: Int64, compressedOffset: Int64)
    /// The tar layer is not well-formed ustar, GNU or pax.
    case malformed(member: String?, offset: Int64, reason: String)
    /// A well-formed member the policy does not allow; one such member fails
    /// the whole archive (a release tarball never has them).
    case refused(member: String, offset: Int64, reason: ArchiveRefusal)

    public var description: String {
        switch self {
        case .zlibUnavailable(let reason):
            return "cannot decompress: zlib is unavailable (\(reason)); install zlib (libz.so.1)"
        case .corruptGzip(let reason, let offset):
            return "the gzip data is corrupt at compressed byte \(offset): \(reason)"
        case .truncated(let reason):
            return "the archive is incomplete: \(reason)"
        case .decompressedSizeLimit(let limit, let offset):
            return "the archive decompresses to more than \(limit) bytes (stopped at compressed byte \(offset)); refusing it as a decompression bomb"
        case .malformed(let member, let offset, let reason):
            let which = member.map { "member \($0.quotedForMessage)" } ?? "header"
            return "malformed tar \(which) at offset \(offset): \(reason)"
        case .refused(let member, let offset, let reason):
            return "refusing the archive: member \(member.quotedForMessage) at offset \(offset) \(reason)"
        }
    }
}

extension String {
    /// Quoted, cut short, with control and format characters (C0, C1, bidi
    /// overrides, zero-width) and combining marks escaped as \u{..}: member
    /// names come from the archive and must not forge, reorder, hide or
    /// flood a log line.
    var quotedForMessage: String {
        let limit = 200
        var quoted = "\""
        for scalar in unicodeScalars.prefix(limit) {
            switch scalar {
            case "\"", "\\": quoted += "\\\(scalar)"
            case _ where scalar.isASCII && (0x20...0x7E).contains(scalar.value): quoted.unicodeScalars.append(scalar)
            case _
            where [
                .control, .format, .lineSeparator, .paragraphSeparator, .nonspacingMark, .enclosingMark,
                .unassigned, .privateUse, .surrogate,
            ]
            .contains(scalar.properties.generalCategory):
                quoted += "\\u{\(String(scalar.value, radix: 16, uppercase: true))}"
            default: quoted.unicodeScalars.append(scalar)
            }
        }
        return quoted + (unicodeScalars.count > limit ? "…\"" : "\"")
    }
}
