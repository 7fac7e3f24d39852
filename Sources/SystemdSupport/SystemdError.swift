#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A libsystemd call failed with a negative errno return value.
///
/// libsystemd reports failures as `-errno` rather than through `errno`, so
/// the code is taken from the return value.
public struct SystemdError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The C function that failed, e.g. `"sd_notify"`.
    public let function: String
    /// The positive errno value, e.g. `ENOENT`.
    public let errno: Int32

    public init(function: String, errno: Int32) {
        self.function = function
        self.errno = errno
    }

    /// Builds the error from a libsystemd return value (`r < 0`).
    init(function: String, returnValue r: Int32) {
        self.init(function: function, errno: -r)
    }

    public var description: String {
        "\(function) failed: \(String(cString: strerror(errno))) (errno \(errno))"
    }
}
