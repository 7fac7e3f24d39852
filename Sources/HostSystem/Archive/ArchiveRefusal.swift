/// What the policy refuses in a member that is otherwise well-formed; the
/// description completes "member 'x' at offset n ...".
public enum ArchiveRefusal: Error, Equatable, Sendable, CustomStringConvertible {
    case absolutePath
    /// A `..` component.
    case parentDirectoryComponent
    /// An empty name or `a//b`.
    case emptyComponent
    /// NUL or another control character.
    case controlCharacter
    /// A component over 255 bytes or a path over 4095 (Linux's NAME_MAX, PATH_MAX).
    case nameTooLong
    /// A trailing `/` on something that is not a directory.
    case trailingSlash
    /// Not inside the common top folder that --strip-components removes.
    case outsideTopFolder(expected: String)
    /// The same path twice (only a directory may repeat).
    case duplicatePath
    /// A parent of the path is an earlier file or symlink: writing there
    /// would go through it.
    case underNonDirectory(String)
    /// Devices, FIFOs, sparse and contiguous files, volume labels, unknown types.
    case unsupportedType(TarMemberType)
    case unsafeSymlinkTarget(target: String, why: String)
    /// Hard links may only name a regular file that came earlier in the archive.
    case hardLinkTargetNotAnEarlierFile(String)
    /// More members, or more paths in the tree (members plus the parent
    /// folders they imply), than the policy allows.
    case tooManyEntries(limit: Int)
    /// The regular files add up to more than the policy allows.
    case unpackedSizeLimit(limit: Int64)

    public var description: String {
        switch self {
        case .absolutePath: return "has an absolute path"
        case .parentDirectoryComponent: return "has a '..' component in its path"
        case .emptyComponent: return "has an empty path component"
        case .controlCharacter: return "has a NUL or control character in its path"
        case .nameTooLong: return "has a name over 255 bytes or a path over 4095"
        case .trailingSlash: return "ends in '/' but is not a directory"
        case .outsideTopFolder(let expected):
            return expected.isEmpty ? "is above the folders to strip" : "is not inside the top folder \(expected.quotedForMessage) shared by the other members"
        case .duplicatePath: return "repeats a path already in the archive"
        case .underNonDirectory(let parent): return "lies under \(parent.quotedForMessage), which is not a directory in the archive"
        case .unsupportedType(let type): return "is a \(type), which a release tarball never contains"
        case .unsafeSymlinkTarget(let target, let why): return "is a symlink to \(target.quotedForMessage), which \(why)"
        case .hardLinkTargetNotAnEarlierFile(let target):
            return "is a hard link to \(target.quotedForMessage), which is not a regular file earlier in the archive"
        case .tooManyEntries(let limit): return "passes the limit of \(limit) entries"
        case .unpackedSizeLimit(let limit): return "takes the files past the limit of \(limit) unpacked bytes"
        }
    }
}
