/// One problem in a workspace spec: where (a field path such as
/// `user.sshAuthorizedKeys[1]`), what is wrong, and what to do about it.
public struct SpecDiagnostic: Equatable, Sendable, CustomStringConvertible {
    public var path: String
    public var message: String
    public var hint: String?

    public init(path: String, message: String, hint: String? = nil) {
        self.path = path
        self.message = message
        self.hint = hint
    }

    public var description: String {
        let place = path.isEmpty ? "(top level)" : path
        guard let hint else { return "\(place): \(message)" }
        return "\(place): \(message)\n    hint: \(hint)"
    }
}

/// A spec that cannot be used, with every problem found in it.
public struct InvalidSpec: Error, Sendable, CustomStringConvertible {
    /// The file the spec came from, when it came from one.
    public var source: String?
    public var diagnostics: [SpecDiagnostic]

    public init(source: String? = nil, diagnostics: [SpecDiagnostic]) {
        self.source = source
        self.diagnostics = diagnostics
    }

    /// One problem with the whole document (path ""): its size, its syntax,
    /// its encoding, nothing in it.
    public init(source: String?, document message: String, hint: String) {
        self.init(source: source, diagnostics: [SpecDiagnostic(path: "", message: message, hint: hint)])
    }

    public var description: String {
        let header = "\(source ?? "workspace spec") is invalid (\(diagnostics.count) problem\(diagnostics.count == 1 ? "" : "s")):"
        return ([header] + diagnostics.map { "  " + $0.description }).joined(separator: "\n")
    }
}
