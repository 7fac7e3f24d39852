/// A URL as messages show it: without its user info, query and fragment,
/// which can carry credentials (a mirror's password, a signed URL's
/// signature) that must not reach the journal, STATUS or Coder's page.
public func shownURL(_ url: String) -> String {
    let visible = Substring(url.prefix { $0 != "?" && $0 != "#" })
    let parts = visible.split(separator: "://", maxSplits: 1, omittingEmptySubsequences: false)
    guard parts.count == 2 else { return String(visible) }
    let rest = parts[1]
    let authority = rest.prefix { $0 != "/" }
    guard let at = authority.lastIndex(of: "@") else { return String(visible) }
    return parts[0] + "://" + rest[rest.index(after: at)...]
}
