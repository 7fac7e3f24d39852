import Glibc

/// A system call that failed, said the way an operator reads it:
/// "cannot create /etc/ssh/sshd_config.d/00-x.conf: No space left on device".
public struct SystemError: Error, Equatable, Sendable, CustomStringConvertible {
    /// What was being done, as a verb phrase ("create", "rename onto").
    public var operation: String
    public var path: String
    /// The errno of the call; 0 when the refusal is the layer's own (see `reason`).
    public var code: Int32
    /// Why the layer itself refused, when it did (a symlink where a folder must be).
    public var reason: String?

    public init(_ operation: String, _ path: String, code: Int32 = errno, reason: String? = nil) {
        self.operation = operation
        self.path = path
        self.code = code
        self.reason = reason
    }

    public var description: String {
        "cannot \(operation) \(path): \(reason ?? Self.describe(code))"
    }

    /// Whether the file system is full (ENOSPC, EDQUOT): space may come back.
    public var isOutOfSpace: Bool { code == ENOSPC || code == EDQUOT }

    /// strerror(3)
    public static func describe(_ code: Int32) -> String { String(cString: strerror(code)) }
}
