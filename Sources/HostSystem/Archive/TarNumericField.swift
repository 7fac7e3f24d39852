/// The numeric fields of a tar header.
enum TarNumericField {
    /// Octal digits, after optional leading spaces, ended by NUL or space
    /// (or by the end of the field); nothing else may follow. At least one
    /// digit is required: every writer stores "0" rather than nothing.
    static func octal(_ field: ArraySlice<UInt8>) -> UInt64? {
        var index = field.startIndex
        while index < field.endIndex, field[index] == UInt8(ascii: " ") { index += 1 }
        var value: UInt64 = 0
        var digits = 0
        while index < field.endIndex, (UInt8(ascii: "0")...UInt8(ascii: "7")).contains(field[index]) {
            // 12 digits at most (the size field): 36 bits, far from overflowing.
            value = value << 3 | UInt64(field[index] - UInt8(ascii: "0"))
            digits += 1
            index += 1
        }
        guard digits > 0, field[index...].allSatisfy({ $0 == 0 || $0 == UInt8(ascii: " ") }) else { return nil }
        return value
    }

    /// A size: octal, or base-256 (first byte 0x80, then big-endian), which
    /// GNU tar and Python's tarfile write for sizes of 8 GiB and more.
    /// Negative base-256 (0xFF) and values past Int64.max are refused.
    static func size(_ field: ArraySlice<UInt8>) -> Result<Int64, TarFormatProblem> {
        guard let first = field.first else { return .failure(TarFormatProblem("empty size field")) }
        if first & 0x80 == 0 {
            guard let value = octal(field) else { return .failure(TarFormatProblem("size field \(shown(field)) is not octal")) }
            return .success(Int64(value))
        }
        guard first == 0x80 else {
            return .failure(TarFormatProblem(first == 0xFF ? "negative base-256 size" : "size field starts with byte \(first), neither octal nor base-256"))
        }
        var value: UInt64 = 0
        for byte in field.dropFirst() {
            guard value <= UInt64(Int64.max) >> 8 else { return .failure(TarFormatProblem("base-256 size does not fit in 63 bits")) }
            value = value << 8 | UInt64(byte)
        }
        guard value <= UInt64(Int64.max) else { return .failure(TarFormatProblem("base-256 size does not fit in 63 bits")) }
        return .success(Int64(value))
    }

    /// A field's bytes for an error message, unprintable ones escaped.
    static func shown(_ field: ArraySlice<UInt8>) -> String {
        String(decoding: field, as: UTF8.self).quotedForMessage
    }
}
