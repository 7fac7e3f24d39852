/// One 512-byte ustar or GNU header block, checked and decoded. uid, gid,
/// owner names, mtime and device numbers are not decoded: the extractor
/// never uses them.
struct TarHeader {
    static let blockSize = 512

    /// The name field; for POSIX ustar, prefix + "/" + name when the prefix is set.
    let name: [UInt8]
    let linkName: [UInt8]
    let mode: UInt32
    let size: Int64
    let typeflag: UInt8

    /// Checks the checksum and the magic, then decodes the fields.
    init(block: [UInt8]) throws(TarFormatProblem) {
        precondition(block.count == Self.blockSize)
        guard let stored = TarNumericField.octal(block[148..<156]) else {
            throw TarFormatProblem("checksum field \(TarNumericField.shown(block[148..<156])) is not octal")
        }
        // The sum with the checksum field read as eight spaces; old writers
        // summed signed chars, so either sum is accepted.
        var unsigned = 8 * Int(UInt8(ascii: " "))
        var signed = unsigned
        block.withUnsafeBufferPointer { bytes in
            for index in bytes.indices where index < 148 || index >= 156 {
                unsigned += Int(bytes[index])
                signed += Int(Int8(bitPattern: bytes[index]))
            }
        }
        guard Int(stored) == unsigned || Int(stored) == signed else {
            throw TarFormatProblem("header checksum is \(stored) but the block sums to \(unsigned)")
        }

        let magic = block[257..<265]
        let isPOSIX = magic.elementsEqual("ustar\u{0}00".utf8)
        let isGNU = magic.elementsEqual("ustar  \u{0}".utf8)
        guard isPOSIX || isGNU else {
            throw TarFormatProblem("not a ustar, GNU or pax header (magic \(TarNumericField.shown(magic)))")
        }

        typeflag = block[156]
        let ownName = Self.string(block[0..<100])
        // GNU headers use the prefix's bytes for times and sparse maps.
        let prefix = isPOSIX ? Self.string(block[345..<500]) : []
        name = prefix.isEmpty ? ownName : prefix + [UInt8(ascii: "/")] + ownName
        linkName = Self.string(block[157..<257])

        guard let mode = TarNumericField.octal(block[100..<108]) else {
            throw TarFormatProblem("mode field \(TarNumericField.shown(block[100..<108])) is not octal")
        }
        self.mode = UInt32(mode)  // 8 octal digits at most: fits
        size = try TarNumericField.size(block[124..<136]).get()
    }

    /// The name as the header has it, for an error message before any
    /// extension header has been applied.
    static func nameForMessage(_ block: [UInt8]) -> String {
        String(decoding: string(block[0..<100]), as: UTF8.self)
    }

    /// A text field: up to its first NUL, or all of it.
    private static func string(_ field: ArraySlice<UInt8>) -> [UInt8] {
        Array(field.prefix { $0 != 0 })
    }
}
