// Where a redirect may lead. The daemon sends a session token with some
// requests, and libcurl passes custom headers on to wherever a redirect
// points: a hop to a scheme other than http or https, or from https down to
// plain http, is refused before libcurl makes the request.

enum RedirectPolicy {
    /// The absolute target of a redirect from `from` (the URL that answered)
    /// to `location` (its Location header) when the hop is refused, nil when
    /// it may be followed. A relative location keeps the scheme of `from`,
    /// so it is always allowed.
    static func refusedTarget(from: String, location: String) -> String? {
        let location = location.trimmed
        guard let target = scheme(of: location) else { return nil }
        let source = scheme(of: from)
        if target == "https" { return nil }
        if target == "http" && source != "https" { return nil }
        return location
    }

    /// The lowercased scheme of an absolute URL ("https" for "HTTPS://x"),
    /// nil for a relative reference (RFC 3986: ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) ":").
    static func scheme(of reference: String) -> String? {
        guard let colon = reference.firstIndex(of: ":") else { return nil }
        let name = reference[..<colon]
        guard let first = name.first, first.isASCII, first.isLetter,
            name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "+-.".contains($0)) })
        else { return nil }
        return name.lowercased()
    }
}
