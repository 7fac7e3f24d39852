import WorkspaceSpec

/// Why coder-vm-seed cannot render, with the exit code each reason gets
/// (sysexits.h, as coder-vm-bootstrap uses them).
public enum SeedError: Error, CustomStringConvertible {
    /// The spec file is missing or cannot be read (EX_NOINPUT).
    case unreadable(path: String, reason: String)
    /// The spec (or a value composed into it) is invalid (EX_CONFIG).
    case invalidSpec(InvalidSpec)
    /// A command-line or Terraform option is wrong (EX_USAGE).
    case invalidOption(String)
    /// The user-data would not fit in a Secret (EX_CONFIG).
    case secretTooLarge(bytes: Int, biggestFields: [(path: String, bytes: Int)])

    public var exitCode: Int32 {
        switch self {
        case .unreadable: 66
        case .invalidSpec, .secretTooLarge: 78
        case .invalidOption: 64
        }
    }

    public var description: String {
        switch self {
        case .unreadable(let path, let reason): return "\(path): \(reason)"
        case .invalidSpec(let invalid): return invalid.description
        case .invalidOption(let message): return message
        case .secretTooLarge(let bytes, let fields):
            let list = fields.map { "  \($0.path): \($0.bytes) bytes" }.joined(separator: "\n")
            return """
                the cloud-init user-data is \(bytes) bytes, more than a Kubernetes Secret holds \
                (\(SecretRenderer.maximumSize) bytes). The biggest fields of the spec:
                \(list)
                    hint: shorten them (e.g. fewer CA certificates or settings), or bake them into the image
                """
        }
    }
}
