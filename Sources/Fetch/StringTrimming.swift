// Header values and stored ETags come with surrounding blanks and CRLF.

extension StringProtocol {
    /// Without leading and trailing whitespace and newlines.
    var trimmed: String {
        String(drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
    }
}
