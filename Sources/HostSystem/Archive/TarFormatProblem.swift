/// What is wrong with one header or extension record; TarReader turns it
/// into ArchiveError.malformed with the member and the offset.
struct TarFormatProblem: Error {
    let reason: String
    init(_ reason: String) { self.reason = reason }
}
