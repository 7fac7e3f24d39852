/// A unit's `ActiveState` (`org.freedesktop.systemd1.Unit`). A string
/// underneath because systemd adds states over time (`maintenance` in 250,
/// `refreshing` in 256); string literals work wherever one is expected.
public struct UnitActiveState: RawRepresentable, Sendable, Hashable, ExpressibleByStringLiteral, CustomStringConvertible {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public init(stringLiteral value: String) { self.rawValue = value }
    public var description: String { rawValue }

    public static let active: Self = "active"
    public static let reloading: Self = "reloading"
    public static let inactive: Self = "inactive"
    public static let failed: Self = "failed"
    public static let activating: Self = "activating"
    public static let deactivating: Self = "deactivating"
    public static let maintenance: Self = "maintenance"
    public static let refreshing: Self = "refreshing"
}

/// How a queued job treats conflicting jobs (`systemctl --job-mode=`).
public enum JobMode: String, Sendable, Hashable {
    case replace
    case fail
    case isolate
    case ignoreDependencies = "ignore-dependencies"
    case ignoreRequirements = "ignore-requirements"
    case replaceIrreversibly = "replace-irreversibly"
}

/// Which processes of a unit `killUnit` signals.
public enum KillWhom: String, Sendable, Hashable {
    case all, main, control
}

/// A snapshot of one unit's state, from several `Properties.Get` calls.
public struct UnitStatus: Sendable, Hashable {
    public var name: String
    /// The unit's D-Bus object path (from `LoadUnit`).
    public var objectPath: String
    /// `loaded`, `not-found`, `masked`, `error`, …
    public var loadState: String
    public var activeState: UnitActiveState
    /// Type-specific: `running`, `exited`, `auto-restart`, `dead`, …
    public var subState: String
    /// Service units only (nil for others): `NRestarts`, the automatic
    /// restarts since the unit was last started by hand.
    public var restartCount: UInt32?
    /// Service units only: `MainPID`, 0 when not running.
    public var mainPID: UInt32?
    /// Service units only: `ExecMainStatus`, the exit status or signal of
    /// the last main process.
    public var execMainStatus: Int32?
    /// Service units only: `Result` (`success`, `exit-code`, `signal`,
    /// `timeout`, `watchdog`, …).
    public var result: String?
}

/// `waitForActiveState` ran out of time.
public struct UnitWaitTimeout: Error, Sendable, Hashable, CustomStringConvertible {
    public let unit: String
    public let expected: Set<UnitActiveState>
    public let lastState: UnitActiveState
    public let timeout: Duration

    public var description: String {
        let states = expected.map(\.rawValue).sorted().joined(separator: ", ")
        return "\(unit) still \(lastState) after \(timeout), expected one of: \(states)"
    }
}

/// Controls systemd units over D-Bus (`org.freedesktop.systemd1`), as
/// `systemctl` does.
///
/// Threading: an sd-bus connection is not thread-safe, so one actor owns
/// one connection and every call runs on the actor's own serial executor
/// (`BusExecutor`), never on the cooperative pool. A call blocks that
/// executor for at most `callTimeout` (default 10 s; sd-bus' own default is
/// 25 s), and only callers of this actor wait. Start/stop calls return as
/// soon as systemd has queued the job; use `waitForActiveState` to see the
/// outcome.
///
/// Errors: `UnitNameError` for names that cannot be units (checked before
/// any call), `BusError` with the D-Bus error name and message for
/// everything systemd or the bus refused, `UnitWaitTimeout`.
public actor UnitManager {
    private static let unitInterface = "org.freedesktop.systemd1.Unit"
    private static let serviceInterface = "org.freedesktop.systemd1.Service"

    private let executor: BusExecutor
    private let bus: SystemBus
    /// Object paths from LoadUnit: they are fixed per name (systemd derives
    /// them from it), so one round trip per unit is enough.
    private var objectPaths: [String: String] = [:]

    public nonisolated var unownedExecutor: UnownedSerialExecutor {
        executor.asUnownedSerialExecutor()
    }

    /// Connects to systemd. The connect itself is a local socket connect
    /// and returns at once; authentication completes with the first call.
    public init(address: BusAddress = .automatic, callTimeout: Duration = .seconds(10)) throws(BusError) {
        self.executor = BusExecutor(label: "coder-vm-bootstrap.sd-bus")
        self.bus = try SystemBus(address: address, methodCallTimeout: callTimeout)
    }

    // MARK: Jobs

    /// `StartUnit`. Returns the job's object path.
    @discardableResult
    public func start(_ unit: String, mode: JobMode = .replace) throws -> String {
        try bus.callUnitJob("StartUnit", unit: Self.startable(unit), mode: mode.rawValue)
    }

    /// `StopUnit`.
    @discardableResult
    func stop(_ unit: String, mode: JobMode = .replace) throws -> String {
        try bus.callUnitJob("StopUnit", unit: Self.startable(unit), mode: mode.rawValue)
    }

    /// `RestartUnit`: starts the unit if it is not running.
    @discardableResult
    public func restart(_ unit: String, mode: JobMode = .replace) throws -> String {
        try bus.callUnitJob("RestartUnit", unit: Self.startable(unit), mode: mode.rawValue)
    }

    /// `KillUnit`: signals the unit's processes without a job; systemd then
    /// applies `Restart=` as for any other death.
    public func killUnit(_ unit: String, signal: Int32, whom: KillWhom = .all) throws {
        try bus.killUnit(Self.startable(unit), whom: whom.rawValue, signal: signal)
    }

    /// `ResetFailedUnit`: clears `failed` and the start rate limit.
    public func resetFailed(_ unit: String) throws {
        try bus.call("ResetFailedUnit", argument: Self.startable(unit))
    }

    // MARK: Unit files

    /// `EnableUnitFiles` (runtime = false: persistent, in /etc; force:
    /// replace conflicting symlinks), then, when a link changed and unless
    /// told not to, `daemonReload()`, as `systemctl enable` does. Names may
    /// be templates' instances or absolute paths of unit files. Units that
    /// are enabled already cost no reload (re-reading every unit file at
    /// every boot took half a second of a warm boot's start).
    @discardableResult
    public func enable(
        unitFiles: [String], runtime: Bool = false, force: Bool = true,
        reload: Bool = true
    ) throws -> [UnitFileChange] {
        let files = try unitFiles.map(Self.unitFileArgument)
        let (_, changes) = try bus.enableUnitFiles(files, runtime: runtime, force: force)
        if reload, !changes.isEmpty { try daemonReload() }
        return changes
    }

    /// `DisableUnitFiles`, then, when a link changed and unless told not
    /// to, `daemonReload()`.
    @discardableResult
    func disable(unitFiles: [String], runtime: Bool = false, reload: Bool = true) throws -> [UnitFileChange] {
        let files = try unitFiles.map(Self.unitFileArgument)
        let changes = try bus.disableUnitFiles(files, runtime: runtime)
        if reload, !changes.isEmpty { try daemonReload() }
        return changes
    }

    /// `Reload` (`systemctl daemon-reload`): re-reads all unit files. The
    /// call returns once systemd has finished reloading.
    func daemonReload() throws {
        try bus.call("Reload")
        // Paths stay valid across reloads; the cache is kept.
    }

    // MARK: State

    /// `ActiveState` of the unit (loaded with `LoadUnit` if need be).
    public func activeState(of unit: String) throws -> UnitActiveState {
        UnitActiveState(rawValue: try unitProperty(unit, Self.unitInterface, "ActiveState"))
    }

    /// `SubState`, e.g. `running`, `auto-restart`.
    func subState(of unit: String) throws -> String {
        try unitProperty(unit, Self.unitInterface, "SubState")
    }

    /// `ActiveEnterTimestampMonotonic`: when the unit last became active
    /// (CLOCK_MONOTONIC, µs), 0 if never. Every activation sets it anew.
    public func activeEnterTimestamp(of unit: String) throws -> UInt64 {
        try withObjectPath(unit) { path in
            try bus.uint64Property(path: path, interface: Self.unitInterface, name: "ActiveEnterTimestampMonotonic")
        }
    }

    /// `NRestarts` of a service unit.
    public func restartCount(of unit: String) throws -> UInt32 {
        try withObjectPath(unit) { path in
            try bus.uint32Property(path: path, interface: Self.serviceInterface, name: "NRestarts")
        }
    }

    /// `MainPID` of a service unit, 0 when it has none.
    func mainPID(of unit: String) throws -> UInt32 {
        try withObjectPath(unit) { path in
            try bus.uint32Property(path: path, interface: Self.serviceInterface, name: "MainPID")
        }
    }

    /// `ExecMainStatus` of a service unit.
    func execMainStatus(of unit: String) throws -> Int32 {
        try withObjectPath(unit) { path in
            try bus.int32Property(path: path, interface: Self.serviceInterface, name: "ExecMainStatus")
        }
    }

    /// All of the above in one snapshot (one call per property; systemd
    /// can change state in between, which a poller tolerates).
    func status(of unit: String) throws -> UnitStatus {
        let name = try Self.startable(unit)
        return try withObjectPath(name) { path in
            var status = UnitStatus(
                name: name, objectPath: path,
                loadState: try bus.stringProperty(path: path, interface: Self.unitInterface, name: "LoadState"),
                activeState: UnitActiveState(
                    rawValue: try bus.stringProperty(
                        path: path, interface: Self.unitInterface, name: "ActiveState")),
                subState: try bus.stringProperty(path: path, interface: Self.unitInterface, name: "SubState"))
            if name.hasSuffix(".service") {
                status.restartCount = try bus.uint32Property(path: path, interface: Self.serviceInterface, name: "NRestarts")
                status.mainPID = try bus.uint32Property(path: path, interface: Self.serviceInterface, name: "MainPID")
                status.execMainStatus = try bus.int32Property(path: path, interface: Self.serviceInterface, name: "ExecMainStatus")
                status.result = try bus.stringProperty(path: path, interface: Self.serviceInterface, name: "Result")
            }
            return status
        }
    }

    /// Polls `ActiveState` until it is one of `states`, and returns it.
    ///
    /// Polling (50 ms, growing to 500 ms) rather than subscribing to
    /// `PropertiesChanged`: a subscription needs a second connection and an
    /// event loop, while a property read is one short round trip. The actor
    /// is free between polls, so other calls interleave. Include `.failed`
    /// in `states` to stop early on failure.
    ///
    /// - Throws: `UnitWaitTimeout`, `BusError`, `CancellationError`.
    func waitForActiveState(
        _ unit: String, in states: Set<UnitActiveState>, timeout: Duration
    ) async throws -> UnitActiveState {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        var interval = Duration.milliseconds(50)
        while true {
            let state = try activeState(of: unit)
            if states.contains(state) { return state }
            let now = clock.now
            if now >= deadline {
                throw UnitWaitTimeout(unit: unit, expected: states, lastState: state, timeout: timeout)
            }
            try await Task.sleep(until: min(now.advanced(by: interval), deadline), clock: clock)
            interval = min(interval * 2, .milliseconds(500))
        }
    }

    // MARK: Helpers

    private func unitProperty(_ unit: String, _ interface: String, _ name: String) throws -> String {
        try withObjectPath(unit) { path in
            try bus.stringProperty(path: path, interface: interface, name: name)
        }
    }

    /// Runs `body` with the unit's object path from `LoadUnit`, cached; if
    /// the cached path has gone stale (`UnknownObject`), loads it again once.
    private func withObjectPath<T>(_ unit: String, _ body: (String) throws -> T) throws -> T {
        let name = try Self.startable(unit)
        if let cached = objectPaths[name] {
            do {
                return try body(cached)
            } catch let error as BusError where error.name == BusError.Name.unknownObject {
                objectPaths[name] = nil
            }
        }
        let path = try bus.callReturningPath("LoadUnit", argument: name)
        objectPaths[name] = path
        return try body(path)
    }

    /// A name jobs and properties can apply to: valid and not a template.
    static func startable(_ unit: String) throws(UnitNameError) -> String {
        let name = try UnitName(unit)
        guard name.form != .template else {
            let at = unit.firstIndex(of: "@")!
            let example = unit[...at] + "NAME" + unit[unit.index(after: at)...]
            throw UnitNameError(name: unit, reason: "a template; name an instance such as \(example)")
        }
        return name.rawValue
    }

    /// Unit file arguments to Enable/DisableUnitFiles: a valid name
    /// (templates allowed) or an absolute path.
    static func unitFileArgument(_ file: String) throws(UnitNameError) -> String {
        if file.hasPrefix("/") {
            guard let base = file.split(separator: "/").last else {
                throw UnitNameError(name: file, reason: "no file name")
            }
            _ = try UnitName(String(base))
            return file
        }
        return try UnitName(file).rawValue
    }
}
