// What every request is checked for before libcurl sees it, downloads and
// API calls alike.

enum RequestChecks {
    /// Only http:// and https:// URLs (libcurl speaks many more schemes).
    static func webURL(_ url: String) throws(FetchError) {
        let scheme = url.prefix(while: { $0 != ":" }).lowercased()
        guard scheme == "http" || scheme == "https" else {
            throw .invalidRequest("\(url) is not an http:// or https:// URL")
        }
    }

    /// The headers as "Name: value" lines, sorted by name. A name that is
    /// empty or holds a colon, or a line break anywhere, is refused: it
    /// would let a value add headers of its own.
    static func headerLines(_ headers: [String: String]) throws(FetchError) -> [String] {
        for (name, value) in headers
        where name.isEmpty || name.contains(":") || (name + value).contains(where: \.isNewline) {
            throw .invalidRequest("header \(name) is malformed")
        }
        return headers.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }
    }
}
