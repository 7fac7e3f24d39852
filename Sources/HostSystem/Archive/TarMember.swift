/// One member of a tar archive as its headers describe it, extension
/// headers (GNU long names, pax records) already applied. Nothing here is
/// vetted: MemberVetting decides what of it may be created.
public struct TarMember: Equatable, Sendable {
    /// The name as stored (UTF-8), e.g. "code-server-4.96.4-linux-amd64/bin/code-server".
    public var path: String
    public var type: TarMemberType
    /// The mode field as stored, setuid and friends included.
    public var mode: UInt32
    /// Bytes of data that follow; 0 for every type that carries none.
    public var size: Int64
    /// A symlink's target, or the earlier member a hard link names; "" otherwise.
    public var linkTarget: String
    /// Offset of the member's first header block (its extension header, if
    /// any) in the uncompressed tar stream.
    public var offset: Int64

    public init(path: String, type: TarMemberType, mode: UInt32, size: Int64, linkTarget: String, offset: Int64) {
        self.path = path
        self.type = type
        self.mode = mode
        self.size = size
        self.linkTarget = linkTarget
        self.offset = offset
    }
}
