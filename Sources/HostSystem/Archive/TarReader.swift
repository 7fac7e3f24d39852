/// Reads a tar stream pushed in chunks of any size (as a download delivers
/// them) and reports its members as TarEvents. Understands ustar, GNU tar
/// ('L' long names, 'K' long link names) and pax ('x' records path,
/// linkpath and size; 'g' records are checked, then ignored). Strict: every
/// header's checksum is verified, numbers are parsed exactly, a nonzero
/// size on a type without data is an error, and the archive must end with
/// two zero blocks followed by nothing but zeros. Bounded: it holds one
/// header block and at most `maxExtensionBytes` of one extension header;
/// member data is passed through, never buffered.
public final class TarReader {
    public let maxExtensionBytes: Int

    private enum Phase {
        case header
        /// After one zero block: the next must be zero too.
        case secondZeroBlock
        case extensionData(kind: UInt8, remaining: Int, padding: Int)
        case memberData(remaining: Int64, padding: Int)
        case padding(remaining: Int)
        case ended
    }

    /// Extension headers read so far for the member whose header comes next.
    private struct Pending {
        var offset: Int64?
        var longName: [UInt8]?
        var longLinkName: [UInt8]?
        var pax: PaxRecords?
    }

    private var phase = Phase.header
    private var block = [UInt8](repeating: 0, count: TarHeader.blockSize)
    private var blockFilled = 0
    private var extensionBytes: [UInt8] = []
    private var pending = Pending()
    /// The member whose data is being read, for "ended inside ..." errors.
    private var current: TarMember?
    /// Bytes of the tar stream consumed so far.
    public private(set) var offset: Int64 = 0
    private var failure: (any Error)?

    public init(maxExtensionBytes: Int = 64 << 10) {
        self.maxExtensionBytes = maxExtensionBytes
    }

    /// Forgets everything read: the next byte is the archive's first.
    public func reset() {
        phase = .header
        blockFilled = 0
        extensionBytes = []
        pending = Pending()
        current = nil
        offset = 0
        failure = nil
    }

    /// Reads `input`, calling `events` for what it completes. After an
    /// error (its own or one `events` threw) every call throws that error
    /// again until reset().
    public func consume(_ input: UnsafeRawBufferPointer, events: (TarEvent) throws -> Void) throws {
        if let failure { throw failure }
        do {
            var position = 0
            while position < input.count {
                position += try step(UnsafeRawBufferPointer(rebasing: input[position...]), events)
            }
        } catch {
            failure = error
            throw error
        }
    }

    /// Throws unless the archive ended properly: two zero blocks.
    public func finish() throws {
        if let failure { throw failure }
        switch phase {
        case .ended:
            return
        case .header where blockFilled == 0 && offset == 0:
            throw ArchiveError.truncated(reason: "the tar stream is empty")
        case .memberData, .padding, .extensionData:
            let inside = current.map { "inside member \($0.path.quotedForMessage) (offset \($0.offset))" } ?? "inside an extension header"
            throw ArchiveError.truncated(reason: "the tar stream ended \(inside), after \(offset) bytes")
        case .header, .secondZeroBlock:
            throw ArchiveError.truncated(reason: "the tar stream ended after \(offset) bytes, before its two end-of-archive zero blocks")
        }
    }

    /// Consumes what the current phase can take from `input`; returns how much.
    private func step(_ input: UnsafeRawBufferPointer, _ events: (TarEvent) throws -> Void) throws -> Int {
        switch phase {
        case .header, .secondZeroBlock:
            let count = min(TarHeader.blockSize - blockFilled, input.count)
            block.withUnsafeMutableBytes { $0.baseAddress!.advanced(by: blockFilled).copyMemory(from: input.baseAddress!, byteCount: count) }
            blockFilled += count
            offset += Int64(count)
            if blockFilled == TarHeader.blockSize {
                blockFilled = 0
                try blockComplete(at: offset - Int64(TarHeader.blockSize), events)
            }
            return count

        case .extensionData(let kind, let remaining, let padding):
            let count = min(remaining, input.count)
            extensionBytes.append(contentsOf: input[..<count])
            offset += Int64(count)
            if count == remaining {
                try extensionComplete(kind: kind)
                phase = padding > 0 ? .padding(remaining: padding) : .header
            } else {
                phase = .extensionData(kind: kind, remaining: remaining - count, padding: padding)
            }
            return count

        case .memberData(let remaining, let padding):
            let count = Int(min(Int64(input.count), remaining))
            offset += Int64(count)
            try events(.data(UnsafeRawBufferPointer(rebasing: input[..<count])))
            if Int64(count) == remaining {
                current = nil
                phase = padding > 0 ? .padding(remaining: padding) : .header
                try events(.endOfMember)
            } else {
                phase = .memberData(remaining: remaining - Int64(count), padding: padding)
            }
            return count

        case .padding(let remaining):
            let count = min(remaining, input.count)
            offset += Int64(count)
            phase = count == remaining ? .header : .padding(remaining: remaining - count)
            return count

        case .ended:
            // GNU tar pads the archive to its record size (10 KiB) with zeros.
            if let nonzero = input.firstIndex(where: { $0 != 0 }) {
                throw ArchiveError.malformed(member: nil, offset: offset + Int64(nonzero), reason: "non-zero bytes after the end-of-archive blocks")
            }
            offset += Int64(input.count)
            return input.count
        }
    }

    private func blockComplete(at headerOffset: Int64, _ events: (TarEvent) throws -> Void) throws {
        let isZero = block.allSatisfy { $0 == 0 }
        if case .secondZeroBlock = phase {
            guard isZero else {
                throw ArchiveError.malformed(
                    member: nil, offset: headerOffset - Int64(TarHeader.blockSize),
                    reason: "a single zero block inside the archive (only two in a row end it)")
            }
            phase = .ended
            try events(.end)
            return
        }
        if isZero {
            if let start = pending.offset {
                throw ArchiveError.malformed(member: nil, offset: start, reason: "extension header not followed by a member")
            }
            phase = .secondZeroBlock
            return
        }

        let header: TarHeader
        do {
            header = try TarHeader(block: block)
        } catch {
            throw ArchiveError.malformed(member: TarHeader.nameForMessage(block), offset: headerOffset, reason: error.reason)
        }
        func malformed(_ reason: String) -> ArchiveError {
            .malformed(member: String(decoding: header.name, as: UTF8.self), offset: headerOffset, reason: reason)
        }

        switch header.typeflag {
        case UInt8(ascii: "L"), UInt8(ascii: "K"), UInt8(ascii: "x"), UInt8(ascii: "g"):
            let kind = header.typeflag
            let repeated =
                switch kind {
                case UInt8(ascii: "L"): pending.longName != nil
                case UInt8(ascii: "K"): pending.longLinkName != nil
                case UInt8(ascii: "x"): pending.pax != nil
                default: pending.offset != nil  // a global header between a member's extensions and its header
                }
            guard !repeated else { throw malformed("extension header of type '\(Character(Unicode.Scalar(kind)))' repeated or out of place") }
            guard header.size <= Int64(maxExtensionBytes) else {
                throw malformed("extension header of \(header.size) bytes is over the \(maxExtensionBytes)-byte limit")
            }
            if kind != UInt8(ascii: "g") { pending.offset = pending.offset ?? headerOffset }
            extensionBytes = []
            extensionBytes.reserveCapacity(Int(header.size))
            let size = Int(header.size)
            phase = .extensionData(kind: kind, remaining: size, padding: Self.padding(after: Int64(size)))
            if size == 0 {
                try extensionComplete(kind: kind)
                phase = .header
            }
        default:
            try memberHeader(header, at: headerOffset, malformed, events)
        }
    }

    private func extensionComplete(kind: UInt8) throws {
        let data = extensionBytes
        extensionBytes = []
        do {
            switch kind {
            case UInt8(ascii: "L"): pending.longName = try Self.longName(data)
            case UInt8(ascii: "K"): pending.longLinkName = try Self.longName(data)
            case UInt8(ascii: "x"): pending.pax = try PaxRecords(parsing: data)
            default: _ = try PaxRecords(parsing: data)  // 'g': checked, not applied
            }
        } catch {
            throw ArchiveError.malformed(member: nil, offset: offset - Int64(data.count) - Int64(TarHeader.blockSize), reason: error.reason)
        }
    }

    private func memberHeader(
        _ header: TarHeader, at headerOffset: Int64, _ malformed: (String) -> ArchiveError,
        _ events: (TarEvent) throws -> Void
    ) throws {
        let extensions = pending
        pending = Pending()
        let nameBytes = extensions.pax?.path ?? extensions.longName ?? header.name
        let linkBytes = extensions.pax?.linkPath ?? extensions.longLinkName ?? header.linkName
        guard let path = String(validating: nameBytes, as: UTF8.self) else { throw malformed("the name is not valid UTF-8") }
        guard let linkTarget = String(validating: linkBytes, as: UTF8.self) else { throw malformed("the link target is not valid UTF-8") }
        var type = TarMemberType(typeflag: header.typeflag)
        if extensions.pax?.describesSparseFile == true { type = .sparse }
        if header.typeflag == 0, path.utf8.last == UInt8(ascii: "/") { type = .directory }
        let size = extensions.pax?.size ?? header.size
        guard type.carriesData || size == 0 else { throw malformed("a \(type) with a size of \(size) bytes") }

        let member = TarMember(
            path: path, type: type, mode: header.mode, size: size, linkTarget: linkTarget,
            offset: extensions.offset ?? headerOffset)
        try events(.member(member))
        if size > 0 {
            current = member
            phase = .memberData(remaining: size, padding: Self.padding(after: size))
        } else {
            phase = .header
            try events(.endOfMember)
        }
    }

    /// A GNU long name's data: the name, NUL-terminated.
    private static func longName(_ data: [UInt8]) throws(TarFormatProblem) -> [UInt8] {
        let name = Array(data.prefix { $0 != 0 })
        guard !name.isEmpty else { throw TarFormatProblem("empty GNU long name") }
        return name
    }

    /// Zero bytes after `size` bytes of data up to the next block boundary.
    private static func padding(after size: Int64) -> Int {
        Int((Int64(TarHeader.blockSize) - size % Int64(TarHeader.blockSize)) % Int64(TarHeader.blockSize))
    }
}
