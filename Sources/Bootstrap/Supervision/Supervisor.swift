import WorkspaceSpec

/// Brings one component up and keeps it healthy, the same way for every
/// component: start its prefetch, wait for what it needs, converge, start
/// its unit, wait for the first healthy probe, then probe on an interval
/// and restart it (with backoff and a budget) when it is dead or hung.
/// systemd already restarts a process that exits; this adds what systemd
/// cannot see. Everything that happens is an event (`ComponentEvent`); the
/// supervisor keeps no status of its own.
public struct Supervisor<C: Clock>: Sendable where C.Duration == Duration {
    let component: any Component
    let context: ComponentContext
    let units: any UnitControl
    let events: any ComponentEventSink
    let gate: DependencyGate
    let policy: SupervisionPolicy
    let clock: C
    let liveness: Liveness<C>?
    /// 0..<1, for the backoff's jitter (tests give a constant).
    let random: @Sendable () -> Double

    public init(
        component: any Component, context: ComponentContext, units: any UnitControl,
        events: any ComponentEventSink, gate: DependencyGate, policy: SupervisionPolicy, clock: C,
        liveness: Liveness<C>? = nil, random: @escaping @Sendable () -> Double = { .random(in: 0..<1) }
    ) {
        self.component = component
        self.context = context
        self.units = units
        self.events = events
        self.gate = gate
        self.policy = policy
        self.clock = clock
        self.liveness = liveness
        self.random = random
    }

    private var name: ComponentName { component.name }

    /// Runs until cancelled. The component's `afterReady` work runs as a
    /// child task once it is first healthy, beside the supervision.
    public func run() async {
        let (firstReady, signal) = AsyncStream<Void>.makeStream()
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                defer { signal.finish() }
                try? await self.supervise(onFirstReady: { signal.yield() })
            }
            for await _ in firstReady {
                group.addTask { await self.component.afterReady(self.context) }
                break
            }
        }
        liveness?.release(name)
    }

    /// Why a running unit is about to be restarted.
    private enum Stop: Error {
        case unhealthy(String)
        case budgetSpent(String)
    }

    private struct Progress {
        var history = RestartHistory<C.Instant>()
        var systemdRestartsSeen: UInt32 = 0
        var firstReady = true
        var bootUnitsEnabled = false
        var faultsInARow = 0
        var systemdFaultsInARow = 0
        /// The unit is running but broken: kill and restart it on the next bring-up.
        var needsRestart = false
        /// A restart systemd may not have carried out: restart (not kill) it on the next bring-up.
        var restartPending = false
        /// The prefetch the first converge goes on from: when that converge
        /// began (the wait for the prefetch is part of it) and how the
        /// prefetch ended (what it threw is that converge's failure).
        var prefetched: (began: C.Instant, outcome: Result<Bool, any Error>)?
    }

    private func supervise(onFirstReady: @Sendable () -> Void) async throws {
        async let prefetchOutcome = prefetch()
        try await waitForUnits()
        try await waitForNeeds()
        var progress = Progress()
        // What is left of the prefetch is the first converge's start.
        record(.converging)
        let began = clock.now
        promise(policy.convergeAllowance)
        progress.prefetched = (began, await prefetchOutcome)
        while true {
            try Task.checkCancellation()
            guard let changed = try await convergeOnce(&progress) else { continue }
            do {
                if let unit = component.unit {
                    try await bringUp(unit, restart: progress.needsRestart, changed: changed || progress.restartPending, &progress)
                } else {
                    try await confirmHealthy(&progress)
                }
                progress.needsRestart = false
                progress.restartPending = false
                progress.systemdFaultsInARow = 0
                if progress.firstReady {
                    progress.firstReady = false
                    onFirstReady()
                }
                try await watch(&progress)
            } catch let stop as Stop {
                try await recover(from: stop, &progress)
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                // systemd did not answer or refused a job (a D-Bus timeout on a
                // busy boot): not the program's fault; try again after a wait,
                // and restart the unit then, since the job may not have happened.
                progress.systemdFaultsInARow += 1
                progress.restartPending = progress.restartPending || changed
                let delay = policy.serverRetry.delay(after: progress.systemdFaultsInARow, random: random())
                record(.waiting(reason: "systemd: \(error)", retryIn: delay, attempt: progress.systemdFaultsInARow))
                try await sleep(delay)
            }
        }
    }

    // MARK: Ordering

    /// Until every unit in `afterUnits` is active. Polled (20 ms, growing to
    /// 200 ms) only at boot, before cloud-init's init stage is over; once a
    /// unit is active it is never asked again.
    private func waitForUnits() async throws {
        let begin = clock.now
        var interval = Duration.milliseconds(20)
        var waited = false
        for unit in component.afterUnits {
            while (try? await units.activeState(of: unit)) != .active {
                if !waited {
                    record(.progress("waiting for \(unit) (cloud-init's init stage) before changing what it also configures"))
                    waited = true
                }
                liveness?.release(name)  // waiting on the boot is not being stuck
                try await clock.sleep(for: interval)
                interval = min(interval * 2, .milliseconds(200))
            }
        }
        if waited { record(.stage("after-units", begin.duration(to: clock.now))) }
    }

    // MARK: Needs

    /// Pending until every component in `needs` is ready; blocked (and
    /// still waiting) while one of them has failed.
    private func waitForNeeds() async throws {
        var last: ComponentEvent?
        while !component.needs.isEmpty {
            let (standings, version) = gate.standings(of: component.needs)
            let notReady = standings.filter { $0.value != .ready }
            if notReady.isEmpty { return }
            let event: ComponentEvent
            if let (failed, standing) = notReady.sorted(by: { $0.key < $1.key }).first(where: { if case .failed = $0.value { true } else { false } }),
                case .failed(let reason) = standing
            {
                event = .blocked(by: failed, reason: reason)
            } else {
                event = .pending(waitingFor: notReady.keys.sorted())
            }
            if event != last { record(event) }
            last = event
            liveness?.release(name)  // waiting on others is not being stuck
            await gate.change(after: version)
            try Task.checkCancellation()
        }
    }

    // MARK: Converge

    /// The component's prefetch and how it ended.
    private func prefetch() async -> Result<Bool, any Error> {
        let needsReady = NeedsReady { [gate, component] in try await gate.ready(component.needs) }
        do {
            return .success(try await component.prefetch(context, needsReady: needsReady))
        } catch {
            return .failure(error)
        }
    }

    /// Converges once; nil when it failed (the wait before the next try is
    /// over by then), else whether something the unit uses changed.
    private func convergeOnce(_ progress: inout Progress) async throws -> Bool? {
        let prefetched = progress.prefetched
        progress.prefetched = nil
        let begin = prefetched?.began ?? clock.now
        if prefetched == nil { record(.converging) }
        promise(policy.convergeAllowance)
        let changed: Bool
        do {
            let prefetchChanged = try prefetched?.outcome.get() ?? false
            var context = self.context
            context.followsPrefetch = prefetched != nil
            changed = try await component.converge(context) || prefetchChanged
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            let failure = ComponentError.classify(error)
            switch failure.kind {
            case .server, .local:
                // Not a crash: wait and try again, without spending the budget.
                progress.faultsInARow += 1
                let delay = policy.serverRetry.delay(after: progress.faultsInARow, random: random())
                record(.waiting(reason: failure.description, retryIn: delay, attempt: progress.faultsInARow))
                try await sleep(delay)
            case .configuration:
                progress.faultsInARow = 0
                record(.failed(lastError: failure.description, journalTail: nil, retryIn: policy.cooldown))
                gate.set(name, .failed(failure.description))
                try await sleep(policy.cooldown)
            }
            return nil
        }
        progress.faultsInARow = 0
        record(.stage("converge", begin.duration(to: clock.now)))
        return changed
    }

    // MARK: Start

    /// (Re)starts the unit as needed and waits for its first healthy probe.
    private func bringUp(_ unit: String, restart: Bool, changed: Bool, _ progress: inout Progress) async throws {
        let begin = clock.now
        promise(policy.unitCallAllowance)
        let active = try await units.activeState(of: unit)
        if restart {
            // A hung program may ignore SIGTERM: kill it outright first.
            try? await units.kill(unit, signal: policy.hungSignal)
            try? await units.resetFailed(unit)
            try await units.restart(unit)
            record(.restarted(bySystemd: false, count: 1))
        } else if changed, active == .active {
            try await units.restart(unit)
        } else if active != .active, active != .activating {
            try? await units.resetFailed(unit)
            try await units.start(unit)
        }
        record(.started(unit: unit))
        // Enabling for the next boot waits on PID 1, which a boot keeps busy
        // (50 ms of a warm boot when nothing changes): beside the wait for
        // the program, and done by the time it is reported healthy.
        let alreadyEnabled = progress.bootUnitsEnabled
        async let bootUnitsEnabled = enableBootUnits(already: alreadyEnabled)
        progress.systemdRestartsSeen = (try? await units.restartCount(of: unit)) ?? 0
        let deadline = clock.now.advanced(by: policy.startTimeout)
        var last = ProbeResult.unhealthy("no answer yet")
        while clock.now < deadline {
            // A unit that exits while starting up spends the budget too.
            try await countSystemdRestarts(unit, &progress)
            promise(policy.probeAllowance)
            last = await component.probe()
            if last == .healthy { break }
            try await sleep(policy.startupProbeDelay(after: begin.duration(to: clock.now)))
        }
        guard last == .healthy else {
            throw Stop.unhealthy("\(unit) did not become healthy within \(policy.startTimeout): \(Self.reason(last))")
        }
        promise(policy.unitCallAllowance)
        progress.bootUnitsEnabled = await bootUnitsEnabled
        record(.stage("start", begin.duration(to: clock.now)))
        becameHealthy(&progress)
    }

    /// Enables the component's boot units unless they are `already`;
    /// returns whether they are.
    private func enableBootUnits(already: Bool) async -> Bool {
        guard !already, !component.bootUnits.isEmpty else { return already }
        do {
            try await units.enable(component.bootUnits)
            return true
        } catch {
            record(.progress("could not enable \(component.bootUnits.joined(separator: " ")) at boot: \(error)"))
            return false
        }
    }

    /// A component without a unit is healthy once converged and probed.
    private func confirmHealthy(_ progress: inout Progress) async throws {
        promise(policy.probeAllowance)
        let result = await component.probe()
        guard result == .healthy else { throw Stop.unhealthy(Self.reason(result)) }
        promise(policy.unitCallAllowance)
        progress.bootUnitsEnabled = await enableBootUnits(already: progress.bootUnitsEnabled)
        becameHealthy(&progress)
    }

    private func becameHealthy(_ progress: inout Progress) {
        record(.healthy(first: progress.firstReady))
        gate.set(name, .ready)
    }

    // MARK: Watch

    /// Probes until `failuresBeforeUnhealthy` probes in a row fail; counts
    /// the restarts systemd makes by itself (a crash it already healed).
    private func watch(_ progress: inout Progress) async throws {
        var failures = 0
        while true {
            try await sleep(policy.probeInterval)
            if let unit = component.unit { try await countSystemdRestarts(unit, &progress) }
            promise(policy.probeAllowance)
            switch await component.probe() {
            case .healthy:
                if failures > 0 { record(.healthy(first: false)) }
                failures = 0
            case .unhealthy(let reason):
                failures += 1
                record(.unhealthy(reason: reason, failures: failures, threshold: policy.failuresBeforeUnhealthy))
                if failures >= policy.failuresBeforeUnhealthy { throw Stop.unhealthy(reason) }
            }
        }
    }

    /// Adds the restarts systemd made by itself since the last look to the
    /// budget; throws when the budget is spent.
    private func countSystemdRestarts(_ unit: String, _ progress: inout Progress) async throws {
        promise(policy.unitCallAllowance)
        let restarts = (try? await units.restartCount(of: unit)) ?? progress.systemdRestartsSeen
        guard restarts > progress.systemdRestartsSeen else { return }
        let extra = Int(restarts - progress.systemdRestartsSeen)
        progress.systemdRestartsSeen = restarts
        record(.restarted(bySystemd: true, count: extra))
        var allowed = true
        for _ in 0..<extra { allowed = progress.history.record(at: clock.now, budget: policy.budget) && allowed }
        if !allowed {
            throw Stop.budgetSpent("\(unit) keeps exiting (\(progress.history.count) restarts within \(policy.budget.window))")
        }
    }

    // MARK: Recover

    /// Restarts within the budget, with backoff; once it is spent, reports
    /// the component failed with its journal's last lines and waits for the
    /// cooldown before starting over.
    private func recover(from stop: Stop, _ progress: inout Progress) async throws {
        let reason: String
        var spent = false
        switch stop {
        case .unhealthy(let why):
            reason = why
            spent = !progress.history.record(at: clock.now, budget: policy.budget)
        case .budgetSpent(let why):
            reason = why
            spent = true
        }
        progress.needsRestart = true
        if spent {
            promise(policy.unitCallAllowance)
            var tail: [String]?
            if let unit = component.unit { tail = await units.journalTail(of: unit, lines: 10) }
            let message = "\(reason); restart budget of \(policy.budget.restarts) in \(policy.budget.window) spent"
            record(.failed(lastError: message, journalTail: tail, retryIn: policy.cooldown))
            gate.set(name, .failed(message))
            try await sleep(policy.cooldown)
            progress.history.reset()
            return
        }
        let delay = policy.restartBackoff.delay(after: progress.history.count, random: random())
        record(.restarting(reason: reason, after: delay, restart: progress.history.count, budget: policy.budget.restarts))
        try await sleep(delay)
    }

    // MARK: Helpers

    private func record(_ event: ComponentEvent) { events.record(event, for: name) }

    private func promise(_ duration: Duration) { liveness?.promise(name, within: duration) }

    private func sleep(_ duration: Duration) async throws {
        promise(duration)
        try await clock.sleep(for: duration)
    }

    private static func reason(_ result: ProbeResult) -> String {
        if case .unhealthy(let reason) = result { return reason }
        return "healthy"
    }
}
