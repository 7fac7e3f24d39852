/// A .tar.gz read as it downloads: bytes go through Gunzip and TarReader,
/// each member through MemberVetting, and only what the policy allows
/// reaches the handler. The first error (malformed data, a refused member,
/// a limit, or the handler's own) stops the stream: later calls throw it
/// again, until restart().
///
/// restart(), consume() and finish() match the download library's
/// streaming-consumer hook, so the bytes can come straight from the network.
public final class TarGzStream {
    public let policy: ArchivePolicy
    private let handler: any TarEntryHandler
    private let gunzip: Gunzip
    private let reader: TarReader
    private var vetting: MemberVetting
    private var inFile = false
    private var failure: (any Error)?

    /// Throws ArchiveError.zlibUnavailable when libz.so.1 cannot be loaded.
    public init(policy: ArchivePolicy, handler: any TarEntryHandler) throws(ArchiveError) {
        self.policy = policy
        self.handler = handler
        gunzip = try Gunzip(outputLimit: policy.maxDecompressedBytes)
        reader = TarReader(maxExtensionBytes: policy.maxExtensionBytes)
        vetting = MemberVetting(policy: policy)
    }

    /// Starts over from byte 0 (a server that would not resume sends the
    /// whole file again). What the handler created so far is its own to
    /// discard: the same paths come again.
    public func restart() throws {
        gunzip.reset()
        reader.reset()
        vetting = MemberVetting(policy: policy)
        inFile = false
        failure = nil
    }

    public func consume(_ bytes: UnsafeRawBufferPointer) throws {
        if let failure { throw failure }
        do {
            try gunzip.decompress(bytes) { tar in
                try reader.consume(tar) { try handle($0) }
            }
        } catch {
            failure = error
            throw error
        }
    }

    /// Throws unless the archive ended properly: the gzip trailer, then the
    /// tar's two zero blocks.
    public func finish() throws {
        if let failure { throw failure }
        do {
            try gunzip.finish()
            try reader.finish()
        } catch {
            failure = error
            throw error
        }
    }

    private func handle(_ event: TarEvent) throws {
        switch event {
        case .member(let member):
            switch try vetting.vet(member) {
            case .directory(let path, let mode): try handler.directory(path, mode: mode)
            case .file(let path, let mode, let size):
                try handler.beginFile(path, mode: mode, size: size)
                inFile = true
            case .symlink(let path, let target): try handler.symlink(path, target: target)
            case .hardLink(let path, let existing): try handler.hardLink(path, to: existing)
            case .skip: break
            }
        case .data(let bytes):
            // Only regular files pass vetting with data.
            if inFile { try handler.fileData(bytes) }
        case .endOfMember:
            if inFile {
                inFile = false
                try handler.endFile()
            }
        case .end:
            break
        }
    }
}
