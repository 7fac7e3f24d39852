/// What MemberVetting allows a member to become.
public enum VettedEntry: Equatable, Sendable {
    case directory(ArchivePath, mode: UInt16)
    case file(ArchivePath, mode: UInt16, size: Int64)
    /// `target` is relative and normalised: "../" steps first, then names.
    case symlink(ArchivePath, target: String)
    /// `existing` is a regular file (or a hard link to one) created earlier.
    case hardLink(ArchivePath, to: ArchivePath)
    /// A folder that --strip-components removes.
    case skip
}
