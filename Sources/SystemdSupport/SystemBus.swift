import CSystemd

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Which bus reaches systemd.
public enum BusAddress: Sendable, Hashable {
    /// As `systemctl` does: systemd's private socket
    /// (`/run/systemd/private`) when running as root, which needs no
    /// dbus-daemon and works early in boot; otherwise the system bus.
    case automatic
    /// The system message bus (`sd_bus_open_system`, honours
    /// `$DBUS_SYSTEM_BUS_ADDRESS`).
    case system
    /// systemd's private peer-to-peer socket (root only).
    case systemdPrivate
    /// A message bus at a D-Bus address such as `unix:path=/tmp/bus`.
    case messageBus(String)

    static let systemdPrivateAddress = "unix:path=/run/systemd/private"
}

/// One change reported by `EnableUnitFiles`/`DisableUnitFiles`, e.g.
/// `symlink /etc/systemd/system/multi-user.target.wants/x.service -> /run/…`.
public struct UnitFileChange: Sendable, Hashable {
    /// `symlink`, `unlink`, …
    public var type: String
    public var path: String
    public var source: String
}

/// An sd-bus connection to systemd's manager object.
///
/// Not thread-safe, like the `sd_bus` it wraps: one connection must be used
/// from one thread at a time (sd-bus keeps reply queues and a read buffer
/// per connection, unlocked). `UnitManager` confines it to its serial
/// executor. Every call blocks for at most the method-call timeout.
final class SystemBus {
    private let bus: OpaquePointer

    /// Opens and starts a connection; wraps `sd_bus_open_system(3)`, or
    /// `sd_bus_new`, `sd_bus_set_address`, `sd_bus_start`.
    ///
    /// - Parameter methodCallTimeout: bounds every call
    ///   (`sd_bus_set_method_call_timeout`); sd-bus' default is 25 s.
    init(address: BusAddress, methodCallTimeout: Duration) throws(BusError) {
        var opened: OpaquePointer?
        switch address {
        case .automatic:
            if geteuid() == 0, let bus = try? Self.open(Self.systemdPrivateAddressIfPresent(), busClient: false) {
                opened = bus
            } else {
                opened = try Self.openSystem()
            }
        case .system:
            opened = try Self.openSystem()
        case .systemdPrivate:
            opened = try Self.open(BusAddress.systemdPrivateAddress, busClient: false)
        case .messageBus(let address):
            opened = try Self.open(address, busClient: true)
        }
        self.bus = opened!
        let usec = methodCallTimeout.microsecondsRoundedUp
        _ = sd_bus_set_method_call_timeout(bus, max(usec, 1))
    }

    deinit {
        // Flush queued messages (none normally: every call waits for its
        // reply), then close.
        sd_bus_flush_close_unref(bus)
    }

    private static func systemdPrivateAddressIfPresent() throws(BusError) -> String {
        var st = stat()
        guard stat("/run/systemd/private", &st) == 0 else {
            throw BusError(errno: ENOENT, operation: "connect /run/systemd/private")
        }
        return BusAddress.systemdPrivateAddress
    }

    private static func openSystem() throws(BusError) -> OpaquePointer {
        var bus: OpaquePointer?
        let r = sd_bus_open_system(&bus)
        guard r >= 0, let bus else {
            throw BusError(errno: -r, operation: "connect system bus")
        }
        return bus
    }

    private static func open(_ address: String, busClient: Bool) throws(BusError) -> OpaquePointer {
        var bus: OpaquePointer?
        var r = sd_bus_new(&bus)
        guard r >= 0, let bus else { throw BusError(errno: -r, operation: "sd_bus_new") }
        r = sd_bus_set_address(bus, address)
        // A message bus wants Hello first; systemd's private socket is a
        // direct peer and must not get one.
        if r >= 0 { r = sd_bus_set_bus_client(bus, busClient ? 1 : 0) }
        if r >= 0 { r = sd_bus_start(bus) }
        if r < 0 {
            sd_bus_flush_close_unref(bus)
            throw BusError(errno: -r, operation: "connect \(address)")
        }
        return bus
    }

    // MARK: Manager methods

    /// StartUnit, StopUnit, RestartUnit, ReloadUnit, ReloadOrRestartUnit,
    /// TryRestartUnit: `(ss) -> o`. Returns the job object path. Wraps
    /// `sd_bus_call_method(3)` through `csd_manager_call_unit_mode`.
    func callUnitJob(_ member: String, unit: String, mode: String) throws(BusError) -> String {
        try call("\(member) \(unit)") { error, reply in
            csd_manager_call_unit_mode(bus, member, unit, mode, error, reply)
        } read: { reply throws(BusError) in
            try Self.readString(reply, type: "o", operation: "\(member) \(unit)")
        }
    }

    /// LoadUnit, GetUnit: `(s) -> o`. Returns the unit object path.
    func callReturningPath(_ member: String, argument: String) throws(BusError) -> String {
        try call("\(member) \(argument)") { error, reply in
            csd_manager_call_string(bus, member, argument, error, reply)
        } read: { reply throws(BusError) in
            try Self.readString(reply, type: "o", operation: "\(member) \(argument)")
        }
    }

    /// ResetFailedUnit and other `(s) -> ()` methods.
    func call(_ member: String, argument: String) throws(BusError) {
        try call("\(member) \(argument)") { error, reply in
            csd_manager_call_string(bus, member, argument, error, reply)
        } read: { _ in
        }
    }

    /// Reload (daemon-reload) and other `() -> ()` methods.
    func call(_ member: String) throws(BusError) {
        try call(member) { error, reply in
            csd_manager_call_void(bus, member, error, reply)
        } read: { _ in
        }
    }

    /// KillUnit(s name, s whom, i signal).
    func killUnit(_ unit: String, whom: String, signal: Int32) throws(BusError) {
        try call("KillUnit \(unit)") { error, reply in
            csd_manager_kill_unit(bus, unit, whom, signal, error, reply)
        } read: { _ in
        }
    }

    /// EnableUnitFiles(as, b runtime, b force) -> (b, a(sss)).
    func enableUnitFiles(_ files: [String], runtime: Bool, force: Bool) throws(BusError)
        -> (carriesInstallInfo: Bool, changes: [UnitFileChange])
    {
        let operation = "EnableUnitFiles \(files.joined(separator: " "))"
        return try call(operation) { error, reply in
            Self.withStrv(files) { strv in
                csd_manager_enable_unit_files(bus, strv, runtime ? 1 : 0, force ? 1 : 0, error, reply)
            }
        } read: { reply throws(BusError) in
            var carries: Int32 = 0
            let r = sd_bus_message_read_basic(reply, Self.type("b"), &carries)
            if r < 0 { throw BusError(errno: -r, operation: operation + " (reply)") }
            return (carries != 0, try Self.readChanges(reply, operation: operation))
        }
    }

    /// DisableUnitFiles(as, b runtime) -> (a(sss)).
    func disableUnitFiles(_ files: [String], runtime: Bool) throws(BusError) -> [UnitFileChange] {
        let operation = "DisableUnitFiles \(files.joined(separator: " "))"
        return try call(operation) { error, reply in
            Self.withStrv(files) { strv in
                csd_manager_disable_unit_files(bus, strv, runtime ? 1 : 0, error, reply)
            }
        } read: { reply throws(BusError) in
            try Self.readChanges(reply, operation: operation)
        }
    }

    // MARK: Properties

    /// `org.freedesktop.DBus.Properties.Get` of an `s`/`o` property. Wraps
    /// `sd_bus_get_property_string(3)`.
    func stringProperty(path: String, interface: String, name: String) throws(BusError) -> String {
        var error = csd_bus_error_null()
        var value: UnsafeMutablePointer<CChar>?
        let r = csd_get_string_property(bus, path, interface, name, &error, &value)
        if r < 0 {
            throw BusError(consuming: &error, returnValue: r, operation: "Get \(interface).\(name) \(path)")
        }
        defer { free(value) }
        return value.map { String(cString: $0) } ?? ""
    }

    /// Properties.Get of a `u` property. Wraps
    /// `sd_bus_get_property_trivial(3)`.
    func uint32Property(path: String, interface: String, name: String) throws(BusError) -> UInt32 {
        var value: UInt32 = 0
        try trivialProperty(path: path, interface: interface, name: name, type: "u", into: &value)
        return value
    }

    /// Properties.Get of an `i` property.
    func int32Property(path: String, interface: String, name: String) throws(BusError) -> Int32 {
        var value: Int32 = 0
        try trivialProperty(path: path, interface: interface, name: name, type: "i", into: &value)
        return value
    }

    /// Properties.Get of a `t` property.
    func uint64Property(path: String, interface: String, name: String) throws(BusError) -> UInt64 {
        var value: UInt64 = 0
        try trivialProperty(path: path, interface: interface, name: name, type: "t", into: &value)
        return value
    }

    private func trivialProperty<T>(
        path: String, interface: String, name: String, type: Unicode.Scalar, into value: inout T
    ) throws(BusError) {
        var error = csd_bus_error_null()
        let r = withUnsafeMutableBytes(of: &value) { raw in
            csd_get_trivial_property(bus, path, interface, name, Self.type(type), &error, raw.baseAddress)
        }
        if r < 0 {
            throw BusError(consuming: &error, returnValue: r, operation: "Get \(interface).\(name) \(path)")
        }
    }

    // MARK: Plumbing

    /// Runs one method call, turns a failure into `BusError`, and reads the
    /// reply before releasing it.
    private func call<T>(
        _ operation: String,
        _ invoke: (UnsafeMutablePointer<sd_bus_error>, UnsafeMutablePointer<OpaquePointer?>) -> Int32,
        read: (OpaquePointer) throws(BusError) -> T
    ) throws(BusError) -> T {
        var error = csd_bus_error_null()
        var reply: OpaquePointer?
        let r = invoke(&error, &reply)
        defer { if let reply { sd_bus_message_unref(reply) } }
        if r < 0 {
            throw BusError(consuming: &error, returnValue: r, operation: operation)
        }
        sd_bus_error_free(&error)
        guard let reply else { throw BusError(errno: EBADMSG, operation: operation + " (no reply)") }
        return try read(reply)
    }

    private static func type(_ scalar: Unicode.Scalar) -> CChar {
        CChar(bitPattern: UInt8(ascii: scalar))
    }

    /// Reads one `s` or `o` value with `sd_bus_message_read_basic(3)`,
    /// copying it out of the message.
    private static func readString(_ reply: OpaquePointer, type: Unicode.Scalar, operation: String) throws(BusError) -> String {
        var value: UnsafePointer<CChar>?
        let r = sd_bus_message_read_basic(reply, Self.type(type), &value)
        if r <= 0 {
            throw BusError(errno: r < 0 ? -r : EBADMSG, operation: operation + " (reply)")
        }
        return value.map { String(cString: $0) } ?? ""
    }

    /// Reads `a(sss)` with `sd_bus_message_enter_container(3)`.
    private static func readChanges(_ reply: OpaquePointer, operation: String) throws(BusError) -> [UnitFileChange] {
        var r = sd_bus_message_enter_container(reply, type("a"), "(sss)")
        if r < 0 { throw BusError(errno: -r, operation: operation + " (reply)") }
        var changes: [UnitFileChange] = []
        while true {
            r = sd_bus_message_enter_container(reply, type("r"), "sss")
            if r < 0 { throw BusError(errno: -r, operation: operation + " (reply)") }
            if r == 0 { break }
            let kind = try readString(reply, type: "s", operation: operation)
            let path = try readString(reply, type: "s", operation: operation)
            let source = try readString(reply, type: "s", operation: operation)
            changes.append(UnitFileChange(type: kind, path: path, source: source))
            r = sd_bus_message_exit_container(reply)
            if r < 0 { throw BusError(errno: -r, operation: operation + " (reply)") }
        }
        r = sd_bus_message_exit_container(reply)
        if r < 0 { throw BusError(errno: -r, operation: operation + " (reply)") }
        return changes
    }

    /// A NULL-terminated `char **` for `sd_bus_message_append_strv`, valid
    /// during `body`.
    private static func withStrv<R>(_ strings: [String], _ body: (UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> R) -> R {
        var pointers: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) }
        pointers.append(nil)
        defer { for p in pointers { free(p) } }
        return pointers.withUnsafeMutableBufferPointer { body($0.baseAddress!) }
    }
}
