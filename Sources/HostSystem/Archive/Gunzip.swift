// The only Swift file that talks to CZlib.
import CZlib

/// gzip decompression with bytes pushed in as they arrive, over zlib's
/// inflate. Concatenated gzip members (RFC 1952, 2.2) are decompressed one
/// after the other; anything else after a member is an error. Output goes
/// out through a fixed buffer, and stops with an error before it passes
/// `outputLimit` bytes in all.
public final class Gunzip {
    public let outputLimit: Int64
    /// Compressed bytes inflate has consumed.
    public private(set) var compressedBytes: Int64 = 0
    /// Bytes handed to the sinks.
    public private(set) var decompressedBytes: Int64 = 0

    private enum State { case awaitingFirstMember, inMember, betweenMembers }

    private let stream: UnsafeMutablePointer<z_stream>
    private let output: UnsafeMutableRawBufferPointer
    private var state = State.awaitingFirstMember
    private var failure: (any Error)?

    /// Loads zlib (czlib_load) and prepares inflate with gzip detection
    /// (czlib_inflate_init_gzip: inflateInit2_ with windowBits 15 + 32).
    public init(outputLimit: Int64, bufferSize: Int = 64 << 10) throws(ArchiveError) {
        precondition(bufferSize > 0 && bufferSize <= Int(UInt32.max))
        guard czlib_load() == 0 else {
            throw .zlibUnavailable(reason: czlib_load_error().map { String(cString: $0) } ?? "unknown error")
        }
        let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        // zalloc, zfree and opaque zero: zlib's own allocator. The struct
        // must not move after init: zlib keeps a pointer back to it.
        stream.initialize(to: z_stream())
        let code = czlib_inflate_init_gzip(stream)
        guard code == Z_OK else {
            stream.deallocate()
            throw .zlibUnavailable(reason: "inflateInit2_ failed (\(Self.name(of: code))); zlib \(String(cString: czlib_version()))")
        }
        self.stream = stream
        self.outputLimit = outputLimit
        output = .allocate(byteCount: bufferSize, alignment: 16)
    }

    /// inflateEnd() (czlib_inflate_end).
    deinit {
        czlib_inflate_end(stream)
        stream.deallocate()
        output.deallocate()
    }

    /// Decompresses `input` with inflate() (czlib_inflate), handing the
    /// output to `sink` a buffer at a time. After an error, its own or one
    /// the sink threw, every call throws that error again until reset().
    public func decompress(_ input: UnsafeRawBufferPointer, into sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        if let failure { throw failure }
        guard let base = input.baseAddress, !input.isEmpty else { return }
        do {
            var start = 0
            while start < input.count {
                let count = min(input.count - start, Int(UInt32.max))
                stream.pointee.next_in = UnsafeMutablePointer(mutating: (base + start).assumingMemoryBound(to: Bytef.self))
                stream.pointee.avail_in = UInt32(count)
                try inflateAvailableInput(into: sink)
                start += count
            }
        } catch {
            failure = error
            throw error
        }
    }

    /// Throws unless the data ended with a complete gzip member.
    public func finish() throws {
        if let failure { throw failure }
        switch state {
        case .betweenMembers: return
        case .awaitingFirstMember: throw ArchiveError.truncated(reason: "there is no gzip data")
        case .inMember:
            throw ArchiveError.truncated(reason: "the gzip data ends after \(compressedBytes) bytes, before its end (a cut download?)")
        }
    }

    /// Starts over as if no byte had been seen: inflateReset() (czlib_inflate_reset).
    public func reset() {
        czlib_inflate_reset(stream)
        state = .awaitingFirstMember
        compressedBytes = 0
        decompressedBytes = 0
        failure = nil
    }

    /// Runs inflate until next_in is used up or the data ended with nothing after it.
    private func inflateAvailableInput(into sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        while true {
            switch state {
            case .betweenMembers:
                guard stream.pointee.avail_in > 0 else { return }
                czlib_inflate_reset(stream)  // another gzip member follows
                state = .inMember
            case .awaitingFirstMember:
                state = .inMember
            case .inMember:
                break
            }
            stream.pointee.next_out = output.baseAddress!.assumingMemoryBound(to: Bytef.self)
            stream.pointee.avail_out = UInt32(output.count)
            let availableBefore = stream.pointee.avail_in
            let code = czlib_inflate(stream, Z_NO_FLUSH)
            compressedBytes += Int64(availableBefore - stream.pointee.avail_in)
            let produced = output.count - Int(stream.pointee.avail_out)
            if produced > 0 {
                guard Int64(produced) <= outputLimit - decompressedBytes else {
                    throw ArchiveError.decompressedSizeLimit(limit: outputLimit, compressedOffset: compressedBytes)
                }
                decompressedBytes += Int64(produced)
                try sink(UnsafeRawBufferPointer(rebasing: output[..<produced]))
            }
            switch code {
            case Z_OK:
                // Output buffer full: more may be pending even without input.
                if stream.pointee.avail_in == 0, stream.pointee.avail_out > 0 { return }
            case Z_STREAM_END:
                state = .betweenMembers
            case Z_BUF_ERROR:
                return  // no progress possible until more input arrives
            default:
                let message = stream.pointee.msg.map { String(cString: $0) } ?? Self.name(of: code)
                throw ArchiveError.corruptGzip(reason: message, compressedOffset: compressedBytes)
            }
        }
    }

    private static func name(of code: Int32) -> String {
        switch code {
        case Z_NEED_DICT: return "Z_NEED_DICT: a zlib stream with a preset dictionary"
        case Z_DATA_ERROR: return "Z_DATA_ERROR"
        case Z_MEM_ERROR: return "Z_MEM_ERROR: out of memory"
        case Z_STREAM_ERROR: return "Z_STREAM_ERROR"
        case Z_VERSION_ERROR: return "Z_VERSION_ERROR: incompatible zlib"
        default: return "zlib error \(code)"
        }
    }
}
