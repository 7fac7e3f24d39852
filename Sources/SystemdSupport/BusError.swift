import CSystemd

/// A failed D-Bus call or connection, with the D-Bus error name and message
/// as the peer (usually systemd) reported them.
///
/// Built from an `sd_bus_error`; failures without one (connect, timeout)
/// get libsystemd's name for the errno via `sd_bus_error_set_errno(3)`:
/// a standard D-Bus name where one fits (`ENOENT` is
/// `org.freedesktop.DBus.Error.FileNotFound`, `ETIMEDOUT` is `…Timeout`),
/// else `System.Error.<ERRNO>`.
public struct BusError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The D-Bus error name, e.g. `org.freedesktop.systemd1.NoSuchUnit`.
    public let name: String
    /// The human-readable message that came with it.
    public let message: String
    /// The errno libsystemd mapped the error to (`sd_bus_error_get_errno`).
    public let errno: Int32
    /// What was being done, e.g. `StartUnit code-server@coder.service`.
    public let operation: String

    /// Well-known error names (systemd's `bus-common-errors.h` and the
    /// D-Bus specification).
    public enum Name {
        public static let noSuchUnit = "org.freedesktop.systemd1.NoSuchUnit"
        public static let unitMasked = "org.freedesktop.systemd1.UnitMasked"
        public static let loadFailed = "org.freedesktop.systemd1.LoadFailed"
        public static let jobTypeNotApplicable = "org.freedesktop.systemd1.JobTypeNotApplicable"
        public static let onlyByDependency = "org.freedesktop.systemd1.OnlyByDependency"
        public static let transactionIsDestructive = "org.freedesktop.systemd1.TransactionIsDestructive"
        public static let shuttingDown = "org.freedesktop.systemd1.ShuttingDown"
        public static let accessDenied = "org.freedesktop.DBus.Error.AccessDenied"
        public static let interactiveAuthorizationRequired = "org.freedesktop.DBus.Error.InteractiveAuthorizationRequired"
        public static let serviceUnknown = "org.freedesktop.DBus.Error.ServiceUnknown"
        public static let nameHasNoOwner = "org.freedesktop.DBus.Error.NameHasNoOwner"
        public static let noReply = "org.freedesktop.DBus.Error.NoReply"
        public static let timeout = "org.freedesktop.DBus.Error.Timeout"
        public static let disconnected = "org.freedesktop.DBus.Error.Disconnected"
        public static let unknownProperty = "org.freedesktop.DBus.Error.UnknownProperty"
        public static let unknownInterface = "org.freedesktop.DBus.Error.UnknownInterface"
        public static let unknownMethod = "org.freedesktop.DBus.Error.UnknownMethod"
        public static let unknownObject = "org.freedesktop.DBus.Error.UnknownObject"
        public static let invalidArgs = "org.freedesktop.DBus.Error.InvalidArgs"
        /// libsystemd's name for `ENOENT`: from a connect, no bus socket.
        public static let fileNotFound = "org.freedesktop.DBus.Error.FileNotFound"
    }

    /// What the caller can do about an error, coarser than `name`.
    public enum Kind: Sendable, Hashable {
        /// The unit does not exist (no unit file, not loaded).
        case noSuchUnit
        /// Masked, failed to load, or the job makes no sense for it (e.g.
        /// reload on a unit without `ExecReload=`).
        case unitUnusable
        /// Not allowed: not root, or polkit said no.
        case accessDenied
        /// No systemd to talk to: no bus socket (`FileNotFound`,
        /// `ECONNREFUSED`), or nobody owns
        /// `org.freedesktop.systemd1` on it. Retrying later may help.
        case unavailable
        /// The call took longer than the method-call timeout.
        case timedOut
        /// The connection broke; open a new one.
        case disconnected
        /// The object has no such property or interface (e.g. `NRestarts`
        /// on a non-service unit).
        case unknownProperty
        /// Anything else; inspect `name`.
        case other
    }

    public var kind: Kind {
        switch name {
        case Name.noSuchUnit:
            return .noSuchUnit
        case Name.unitMasked, Name.loadFailed, Name.jobTypeNotApplicable, Name.onlyByDependency:
            return .unitUnusable
        case Name.accessDenied, Name.interactiveAuthorizationRequired, "System.Error.EACCES", "System.Error.EPERM":
            return .accessDenied
        case Name.serviceUnknown, Name.nameHasNoOwner, Name.fileNotFound, "System.Error.ECONNREFUSED", "System.Error.EHOSTUNREACH":
            return .unavailable
        case Name.noReply, Name.timeout, "System.Error.ETIMEDOUT":
            return .timedOut
        case Name.disconnected, "System.Error.ENOTCONN", "System.Error.ECONNRESET", "System.Error.EPIPE":
            return .disconnected
        case Name.unknownProperty, Name.unknownInterface:
            return .unknownProperty
        default:
            return .other
        }
    }

    public var description: String {
        "\(operation): \(name): \(message)"
    }

    /// Takes over a filled-in `sd_bus_error` (or, if none was set, the
    /// negative errno `r`) and frees it.
    init(consuming error: inout sd_bus_error, returnValue r: Int32, operation: String) {
        if sd_bus_error_is_set(&error) == 0 {
            _ = sd_bus_error_set_errno(&error, r < 0 ? -r : r)
        }
        self.name = error.name.map { String(cString: $0) } ?? "System.Error.EIO"
        self.message = error.message.map { String(cString: $0) } ?? ""
        let mapped = sd_bus_error_get_errno(&error)
        self.errno = r < 0 ? -r : mapped
        self.operation = operation
        sd_bus_error_free(&error)
    }

    /// An error as libsystemd would build it from a name and message
    /// (`sd_bus_error_set(3)`), with libsystemd's errno mapping.
    public init(name: String, message: String, operation: String) {
        var error = csd_bus_error_null()
        let r = sd_bus_error_set(&error, name, message)
        self.init(consuming: &error, returnValue: r, operation: operation)
    }

    /// An error from an errno alone, named by `sd_bus_error_set_errno(3)`.
    public init(errno: Int32, operation: String) {
        var error = csd_bus_error_null()
        self.init(consuming: &error, returnValue: -errno, operation: operation)
    }
}
