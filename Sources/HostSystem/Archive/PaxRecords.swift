/// The records of a pax extended header ('x' for the next member, 'g' for
/// all that follow): "<length> <key>=<value>\n", the length counting the
/// whole record. Only the keys that change what is extracted are kept.
struct PaxRecords {
    var path: [UInt8]?
    var linkPath: [UInt8]?
    var size: Int64?
    /// GNU.sparse.* records: the data is a sparse map, not the file's bytes.
    var describesSparseFile = false

    init(parsing data: [UInt8]) throws(TarFormatProblem) {
        var start = 0
        while start < data.count {
            var index = start
            var length = 0
            while index < data.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(data[index]) {
                // No record is longer than the header's capped data.
                guard length <= data.count else { throw TarFormatProblem("pax record at byte \(start) is longer than its header") }
                length = length * 10 + Int(data[index] - UInt8(ascii: "0"))
                index += 1
            }
            guard index > start, index < data.count, data[index] == UInt8(ascii: " ") else {
                throw TarFormatProblem("pax record at byte \(start) does not start with '<length> '")
            }
            let end = start + length
            guard length > index - start + 1, end <= data.count, data[end - 1] == UInt8(ascii: "\n") else {
                throw TarFormatProblem("pax record at byte \(start) has a wrong length \(length)")
            }
            let record = data[(index + 1)..<(end - 1)]
            guard let equals = record.firstIndex(of: UInt8(ascii: "=")), equals > record.startIndex else {
                throw TarFormatProblem("pax record at byte \(start) has no 'key='")
            }
            try apply(key: record[..<equals], value: record[(equals + 1)...])
            start = end
        }
    }

    /// POSIX: an empty value deletes the keyword, so the header's own field applies.
    private mutating func apply(key: ArraySlice<UInt8>, value: ArraySlice<UInt8>) throws(TarFormatProblem) {
        let given = value.isEmpty ? nil : Array(value)
        if key.elementsEqual("path".utf8) {
            path = given
        } else if key.elementsEqual("linkpath".utf8) {
            linkPath = given
        } else if key.elementsEqual("size".utf8) {
            size = try given.map(Self.decimalSize)
        } else if key.starts(with: "GNU.sparse.".utf8) {
            describesSparseFile = true
        }
    }

    private static func decimalSize(_ text: [UInt8]) throws(TarFormatProblem) -> Int64 {
        var value: Int64 = 0
        for byte in text {
            guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else {
                throw TarFormatProblem("pax size \(TarNumericField.shown(text[...])) is not a decimal number")
            }
            let (shifted, overflowA) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflowB) = shifted.addingReportingOverflow(Int64(byte - UInt8(ascii: "0")))
            guard !overflowA, !overflowB else { throw TarFormatProblem("pax size does not fit in 63 bits") }
            value = sum
        }
        return value
    }
}
