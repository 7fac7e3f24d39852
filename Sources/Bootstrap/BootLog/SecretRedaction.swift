import WorkspaceSpec

/// The spec's secrets, cut out of text that leaves the VM: the agent token,
/// code-server's password hash, the values of the agent's extra headers,
/// and the credentials in any URL of the spec (`user:password@`); also every
/// URL's query or fragment, where a signed URL keeps its credentials.
/// Secrets shorter than `shortest` characters are left alone: cutting them
/// out would mangle every line, and they guard nothing.
struct SecretRedaction: Sendable {
    static let placeholder = "<redacted>"
    static let shortest = 4
    /// Longest first, so a secret that contains another goes whole.
    private let secrets: [String]

    init(spec: WorkspaceSpec, token: String?) {
        var found: [String] = [token, spec.codeServer.hashedPassword].compactMap { $0 }
        if let coder = spec.coder {
            found += coder.agentHeaders.values
            let urls = [coder.accessURL, coder.agentURL, coder.proxy?.http, coder.proxy?.https]
            found += urls.compactMap { $0 }.flatMap(Self.credentials)
        }
        found += Self.credentials(in: spec.codeServer.downloadURL)
        if let install = spec.install { found += Self.credentials(in: install.packageURL) }
        secrets = Set(found.filter { $0.count >= Self.shortest }).sorted { $0.count > $1.count }
    }

    func apply(_ text: String) -> String {
        var text = text
        for secret in secrets where text.contains(secret) {
            text = text.replacing(secret, with: Self.placeholder)
        }
        return WorkspaceStatus.withoutURLQueries(text)
    }

    /// The user information of a URL ("user:password" in
    /// "https://user:password@host/"), and the password alone.
    static func credentials(in url: String) -> [String] {
        guard let schemeEnd = url.firstRange(of: "://") else { return [] }
        let authority = url[schemeEnd.upperBound...].prefix { !"/?#".contains($0) }
        guard let at = authority.lastIndex(of: "@") else { return [] }
        let userInfo = authority[..<at]
        let password = userInfo.firstIndex(of: ":").map { userInfo[userInfo.index(after: $0)...] }
        return [String(userInfo)] + (password.map { [String($0)] } ?? [])
    }
}
