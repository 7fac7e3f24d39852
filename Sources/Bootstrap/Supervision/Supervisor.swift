import Glibc
import Logging
import SystemdSupport
import WorkspaceSpec

/// Brings one component up and keeps it healthy: converge, start its unit,
/// wait for the first healthy probe, then probe on an interval and restart
/// it (with backoff and a budget) when it is dead or hung. systemd already
/// restarts a process that exits; this adds what systemd cannot see.
struct Supervisor: Sendable {
    let component: any Component
    let context: ComponentContext
    let units: UnitManager
    let board: StatusBoard
    let policy: RestartPolicy
    /// Called once after the first healthy probe (code-server's extensions).
    var afterFirstReady: (@Sendable () async -> Void)?

    private var name: ComponentName { component.name }
    private var logger: Logger {
        var logger = context.logger
        logger[metadataKey: "component"] = .string(name.rawValue)
        return logger
    }

    func run() async {
        var history = RestartHistory()
        var firstReady = true
        var systemdRestartsSeen: UInt32 = 0
        while !Task.isCancelled {
            do {
                try await bringUp(restart: !firstReady, &systemdRestartsSeen, &history)
                if firstReady, let afterFirstReady {
                    firstReady = false
                    Task { await afterFirstReady() }
                }
                firstReady = false
                try await watch(&systemdRestartsSeen, &history)
            } catch is CancellationError {
                return
            } catch is BudgetSpent {
                await markFailed()
                history.reset()
                try? await Task.sleep(for: policy.cooldown)
                continue
            } catch {
                await board.update(name) { $0.state = .unhealthy; $0.lastError = "\(error)" }
                logger.warning("\(error)", metadata: ["stage": "supervise", MessageID.metadataKey: .messageID(.componentUnhealthy)])
            }
            // Unhealthy, hung or failed to come up: restart within the budget.
            let allowed = history.record(at: .now, policy: policy)
            if !allowed {
                await markFailed()
                history.reset()
                try? await Task.sleep(for: policy.cooldown)
                continue
            }
            let delay = policy.backoff(beforeRestart: history.countInWindow)
            await board.update(name) {
                $0.state = .restarting
                $0.restarts += 1
                $0.detail = "restarting in \(Int(Double(delay.components.seconds).rounded(.up))) s"
            }
            logger.notice("restarting \(component.unit) (restart \(history.countInWindow) of \(policy.budget) allowed in \(policy.window))",
                          metadata: ["stage": "restart", MessageID.metadataKey: .messageID(.componentRestarted)])
            do { try await Task.sleep(for: delay) } catch { return }
        }
    }

    /// Converge, (re)start the unit, wait for the first healthy probe.
    private func bringUp(restart: Bool, _ systemdRestartsSeen: inout UInt32, _ history: inout RestartHistory) async throws {
        let begin = ContinuousClock.now
        await board.update(name) { $0.state = .converging; $0.detail = "converging" }
        let changed = try await component.converge(context)
        let converged = ContinuousClock.now
        await board.update(name) {
            $0.state = .starting
            $0.detail = "starting \(component.unit)"
            $0.stages.append(StageTiming(stage: "converge", milliseconds: StatusBoard.milliseconds(converged - begin)))
        }
        let state = try await units.activeState(of: component.unit)
        if restart || (changed && state == .active) {
            // A hung process ignores SIGTERM: kill it outright first.
            if restart { try? await units.killUnit(component.unit, signal: SIGKILL) }
            try? await units.resetFailed(component.unit)
            try await units.restart(component.unit)
        } else if state != .active && state != .activating {
            try? await units.resetFailed(component.unit)
            try await units.start(component.unit)
        }
        systemdRestartsSeen = (try? await units.restartCount(of: component.unit)) ?? 0
        let deadline = ContinuousClock.now + policy.startTimeout
        var last = ProbeResult.unhealthy("no probe yet")
        while ContinuousClock.now < deadline {
            // A unit that exits while starting up spends the budget too.
            try await countSystemdRestarts(&systemdRestartsSeen, &history)
            last = await component.probe()
            if last == .healthy { break }
            try await Task.sleep(for: policy.startupProbeInterval)
        }
        guard last == .healthy else {
            if case .unhealthy(let reason) = last { throw ComponentError("\(component.unit) did not become healthy within \(policy.startTimeout): \(reason)") }
            return
        }
        let healthy = ContinuousClock.now
        await board.update(name) {
            $0.state = .ready
            $0.detail = nil
            $0.lastError = nil
            $0.stages.append(StageTiming(stage: "start", milliseconds: StatusBoard.milliseconds(healthy - converged)))
        }
        logger.info("\(name.rawValue) is ready", metadata: [
            "stage": "ready", "duration_ms": "\(StatusBoard.milliseconds(healthy - begin))",
            MessageID.metadataKey: .messageID(.componentReady)])
    }

    /// Probes until `failureThreshold` probes in a row fail; counts the
    /// restarts systemd did on its own (a crash it already healed).
    private func watch(_ systemdRestartsSeen: inout UInt32, _ history: inout RestartHistory) async throws {
        var failures = 0
        while true {
            try await Task.sleep(for: policy.probeInterval)
            try await countSystemdRestarts(&systemdRestartsSeen, &history)
            switch await component.probe() {
            case .healthy:
                if failures > 0 { await board.update(name) { $0.state = .ready; $0.detail = nil } }
                failures = 0
            case .unhealthy(let reason):
                failures += 1
                await board.update(name) {
                    $0.state = .unhealthy
                    $0.detail = "probe failed \(failures) of \(policy.failureThreshold) times: \(reason)"
                }
                if failures >= policy.failureThreshold { throw ComponentError(reason) }
            }
        }
    }

    /// Adds the restarts systemd did by itself (Restart=always healing a
    /// crash) since the last look to the count shown and to the budget.
    private func countSystemdRestarts(_ seen: inout UInt32, _ history: inout RestartHistory) async throws {
        let restarts = (try? await units.restartCount(of: component.unit)) ?? seen
        guard restarts > seen else { return }
        let extra = Int(restarts - seen)
        seen = restarts
        await board.update(name) { $0.restarts += extra }
        logger.notice("systemd restarted \(component.unit) \(extra) time(s)", metadata: [
            "stage": "supervise", MessageID.metadataKey: .messageID(.componentRestarted)])
        for _ in 0..<extra where !history.record(at: .now, policy: policy) {
            await board.update(name) { $0.lastError = "\(component.unit) keeps exiting (\(history.countInWindow) restarts in \(policy.window))" }
            throw BudgetSpent()
        }
    }

    private struct BudgetSpent: Error {}

    private func markFailed() async {
        let tail = (try? await HostCommand(["journalctl", "--unit", component.unit, "--lines", "10", "--no-pager", "--output", "cat"]).run())
            .map { $0.split(separator: "\n").suffix(10).map(String.init) }
        await board.update(name) {
            $0.state = .failed
            $0.detail = nil
            $0.journalTail = tail
        }
        logger.error("\(component.unit) failed: restart budget of \(policy.budget) in \(policy.window) spent; trying again in \(policy.cooldown)",
                     metadata: ["stage": "supervise", MessageID.metadataKey: .messageID(.componentFailed)])
    }
}
