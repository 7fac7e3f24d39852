import Glibc

/// Puts what `TarGzStream` vetted below a staging folder, through the
/// descriptor-based file layer: every folder entered without following a
/// link, every file created new (`O_EXCL`) with its sanitised mode, owned
/// by `owner`. So an archive can grant nobody more than its author could as
/// the user the files end up owned by: no setuid bits, no devices, nothing
/// outside the staging folder.
public final class ArchiveExtractor: TarEntryHandler {
    private let staging: Directory
    private let owner: Ownership?
    /// The folder of the file being written, and the file.
    private var parent: (path: [String], directory: Directory)?
    private var file: OpenFile?
    public private(set) var files = 0
    public private(set) var bytes: Int64 = 0

    public init(into staging: Directory, owner: Ownership? = nil) {
        self.staging = staging
        self.owner = owner
    }

    /// Empties the staging folder, for a stream that starts again from byte 0.
    public func reset() throws {
        file = nil
        parent = nil
        for entry in try staging.entries() { try staging.removeTree(entry) }
        files = 0
        bytes = 0
    }

    public func directory(_ path: ArchivePath, mode: UInt16) throws {
        try folder(path.components).setAttributes(mode: mode_t(mode), owner: owner)
    }

    public func beginFile(_ path: ArchivePath, mode: UInt16, size: Int64) throws {
        let folder = try folder(Array(path.components.dropLast()))
        file = try folder.createFile(path.components.last!, mode: mode_t(mode), owner: owner)
        files += 1
    }

    public func fileData(_ chunk: UnsafeRawBufferPointer) throws {
        try file?.write(chunk)
        bytes += Int64(chunk.count)
    }

    public func endFile() throws {
        file = nil
    }

    public func symlink(_ path: ArchivePath, target: String) throws {
        try folder(Array(path.components.dropLast())).makeLink(path.components.last!, to: target)
    }

    public func hardLink(_ path: ArchivePath, to existing: ArchivePath) throws {
        let source = try folder(Array(existing.components.dropLast()))
        let destination = try folder(Array(path.components.dropLast()))
        try source.hardLink(existing.components.last!, to: destination, as: path.components.last!)
    }

    /// The folder at `components` below staging, made (0755) where missing.
    /// The last one is kept open: members of one folder come together.
    private func folder(_ components: [String]) throws -> Directory {
        if let parent, parent.path == components { return parent.directory }
        var current = staging
        for name in components {
            current = try current.child(name, creating: .init(mode: 0o755, owner: owner))
        }
        parent = (components, current)
        return current
    }
}
