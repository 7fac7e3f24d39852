/// Creates what TarGzStream has vetted, in archive order; typically a file
/// layer that never follows symlinks, writing under a staging directory.
/// Whatever it throws stops the stream and comes out of consume() as is.
/// Parents are not announced when the archive has no entry for them: a
/// handler creates missing parents of a path as directories. A directory
/// may come after its contents, and more than once (tar allows both).
public protocol TarEntryHandler: AnyObject {
    func directory(_ path: ArchivePath, mode: UInt16) throws
    /// Exactly `size` bytes follow through fileData, then endFile().
    func beginFile(_ path: ArchivePath, mode: UInt16, size: Int64) throws
    /// Valid only during the call.
    func fileData(_ bytes: UnsafeRawBufferPointer) throws
    func endFile() throws
    /// `target` is relative and stays inside the tree (see VettedEntry.symlink).
    func symlink(_ path: ArchivePath, target: String) throws
    /// `existing` is a regular file created earlier from this archive.
    func hardLink(_ path: ArchivePath, to existing: ArchivePath) throws
}
