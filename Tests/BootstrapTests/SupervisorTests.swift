import Bootstrap
import BootstrapTestKit
import WorkspaceSpec
import XCTest

/// The supervisor's policy on a fake unit and a virtual clock: minutes of
/// backoff and cooldown run in microseconds, the same way every time.
final class SupervisorTests: XCTestCase {
    let unit = "code-server@coder.service"
    var clock: VirtualClock!
    var units: FakeUnits<VirtualClock>!
    var policy = SupervisionPolicy()

    override func setUp() {
        clock = VirtualClock()
        units = FakeUnits(clock: clock)
        policy = SupervisionPolicy()
    }

    /// Starts one supervisor of `component`; the test cancels the task.
    private func start(_ component: FakeComponent<VirtualClock>, gate: DependencyGate = DependencyGate())
        -> (events: RecordedEvents, task: Task<Void, Never>)
    {
        let events = RecordedEvents()
        let supervisor = Supervisor(
            component: component, context: .testing(component.name, events: events), units: units,
            events: events, gate: gate, policy: policy, clock: clock, random: { 0 })
        let name = component.name
        let task = Task {
            await supervisor.run()
            // Only cancellation ends a supervisor: anything else is a bug, and
            // must end the test instead of leaving it waiting for ever.
            if !Task.isCancelled { events.record(.progress(SupervisorTests.ended), for: name) }
        }
        return (events, task)
    }

    static let ended = "the supervisor ended without being cancelled"

    /// Runs one supervisor until `stop` matches a recorded event, then cancels it.
    private func supervise(
        _ component: FakeComponent<VirtualClock>,
        until stop: @escaping @Sendable (RecordedEvents.Entry) -> Bool
    ) async -> [ComponentEvent] {
        let (events, task) = start(component)
        await events.wait { stop($0) || $0.event == .progress(Self.ended) }
        task.cancel()
        await task.value
        let all = events.events(of: component.name)
        XCTAssertFalse(all.contains(.progress(Self.ended)), Self.ended)
        guard all.contains(where: { stop(.init(component: component.name, event: $0)) }) else { return all }
        let end = all.firstIndex { stop(.init(component: component.name, event: $0)) }!
        return Array(all[...end])
    }

    private func component(_ outcomes: [FakeComponent<VirtualClock>.Outcome] = [.converged(changed: false)]) -> FakeComponent<VirtualClock> {
        FakeComponent(.codeServer, unit: unit, bootUnits: ["x.socket"], units: units, outcomes: outcomes)
    }

    func testHealthyUnitIsStartedOnceAndReportedReady() async {
        let events = await supervise(component()) { $0.event == .healthy(first: true) }
        XCTAssertEqual(events.first, .converging)
        XCTAssertTrue(events.contains(.started(unit: unit)))
        XCTAssertEqual(units.record(of: unit).starts, 1)
        XCTAssertEqual(units.record(of: unit).restarts, 0)
        XCTAssertTrue(units.record(of: "x.socket").enabled, "boot units are enabled by the time it is healthy")
    }

    func testUnitThatExitsAtOnceSpendsTheBudgetCountingSystemdsRestartsAndIsReportedFailed() async {
        units.script(unit, .exitsAtOnce)
        let events = await supervise(component()) { if case .failed = $0.event { true } else { false } }
        let counted = events.reduce(0) { if case .restarted(true, let count) = $1 { $0 + count } else { $0 } }
        XCTAssertEqual(counted, policy.budget.restarts + 1, "the budget allows \(policy.budget.restarts) restarts; the next one fails it")
        guard case .failed(let lastError, let tail, let retryIn) = events.last else { return XCTFail("\(events)") }
        XCTAssertTrue(lastError.contains("keeps exiting"), lastError)
        XCTAssertEqual(tail, units.journal)
        XCTAssertEqual(retryIn, policy.cooldown)
    }

    func testRestartsSpacedBeyondTheWindowNeverSpendTheBudget() async {
        policy.budget = .init(restarts: 2, window: .seconds(60))
        let component = component()
        let (events, task) = start(component)
        await events.wait { $0.event == .healthy(first: true) }
        for crash in 1...5 {
            clock.advance(by: .seconds(61))
            units.crash(unit)
            await events.wait(occurrences: crash) { if case .restarted(true, _) = $0.event { true } else { false } }
        }
        task.cancel()
        await task.value
        XCTAssertFalse(events.events(of: .codeServer).contains { if case .failed = $0 { true } else { false } })
    }

    func testHungUnitIsKilledWithSigkillAndRestarted() async {
        units.script(unit, .healthy, .hangs, .healthy)
        let component = component()
        let (events, task) = start(component)
        await events.wait { $0.event == .healthy(first: true) }
        // It hangs after a restart by systemd (the next program of the script runs).
        try? await units.restart(unit)
        await events.wait { $0.event == .healthy(first: false) }
        task.cancel()
        await task.value
        let all = events.events(of: .codeServer)
        let unhealthy = all.filter { if case .unhealthy = $0 { true } else { false } }
        XCTAssertEqual(unhealthy.count, policy.failuresBeforeUnhealthy, "restarted after exactly that many failed probes: \(all)")
        XCTAssertEqual(units.record(of: unit).kills, [9], "a hung program gets SIGKILL before the restart")
        XCTAssertTrue(all.contains(.restarted(bySystemd: false, count: 1)))
    }

    func testSystemdsOwnRestartsOfAHealthyUnitAreCounted() async {
        let component = component()
        let (events, task) = start(component)
        await events.wait { $0.event == .healthy(first: true) }
        units.crash(unit)
        units.crash(unit)
        await events.wait { if case .restarted(true, _) = $0.event { true } else { false } }
        task.cancel()
        await task.value
        let counted = events.events(of: .codeServer).reduce(0) { if case .restarted(true, let count) = $1 { $0 + count } else { $0 } }
        XCTAssertEqual(counted, 2)
    }

    func testAfterTheCooldownAFailedUnitIsTriedAgainAndRecovers() async {
        units.script(unit, .exitsAtOnce, .healthy)
        let events = await supervise(component()) { $0.event == .healthy(first: true) }
        guard let failedAt = events.firstIndex(where: { if case .failed = $0 { true } else { false } }) else { return XCTFail("\(events)") }
        XCTAssertTrue(events[failedAt...].contains(.restarted(bySystemd: false, count: 1)), "restarted after the cooldown")
        XCTAssertGreaterThanOrEqual(clock.now.offset, policy.cooldown)
    }

    func testServerFaultWaitsWithCappedBackoffAndNeverSpendsTheBudget() async {
        let outage = Array(
            repeating: FakeComponent<VirtualClock>.Outcome.fails(
                ComponentError(.server, "GET https://coder.example.com/bin/coder-linux-amd64 answered HTTP 503")), count: 12)
        let events = await supervise(component(outage + [.converged(changed: false)])) { $0.event == .healthy(first: true) }
        let waits = events.compactMap { if case .waiting(_, let retryIn, let attempt) = $0 { (retryIn, attempt) } else { nil } }
        XCTAssertEqual(waits.map(\.1), Array(1...12))
        XCTAssertEqual(waits.map(\.0).max(), policy.serverRetry.maximum, "backoff is capped")
        XCTAssertEqual(waits.first?.0, policy.serverRetry.initial)
        XCTAssertFalse(events.contains { if case .failed = $0 { true } else { false } })
        XCTAssertFalse(events.contains { if case .restarting = $0 { true } else { false } })
    }

    func testConfigurationErrorIsReportedFailedAndTriedAgainOnlyAfterTheCooldown() async {
        let bad = ComponentError(.configuration, "SHA-256 mismatch for https://example.com/cs.tar.gz")
        let component = component([.fails(bad), .converged(changed: false)])
        let events = await supervise(component) { $0.event == .healthy(first: true) }
        XCTAssertEqual(events.filter { if case .failed = $0 { true } else { false } }.count, 1)
        XCTAssertEqual(component.converges, 2, "no loop: one more try, after the cooldown")
        XCTAssertGreaterThanOrEqual(clock.now.offset, policy.cooldown)
    }

    func testAProgramThatStartsAnsweringIsSeenWithinAnEighthOfItsStartTimeBetween20And250Ms() {
        for answersAfter in [Duration.milliseconds(5), .milliseconds(90), .milliseconds(300), .seconds(2), .seconds(45)] {
            // The probes' times after the unit's start, up to the first one that finds it answering.
            var probedAt = Duration.zero
            var probes = 1
            while probedAt < answersAfter {
                probedAt += policy.startupProbeDelay(after: probedAt)
                probes += 1
            }
            let late = probedAt - answersAfter
            let allowed = min(.milliseconds(250), max(.milliseconds(20), answersAfter / 8))
            XCTAssertLessThanOrEqual(late, allowed, "answering after \(answersAfter), seen \(late) later, by probe \(probes)")
        }
        XCTAssertEqual(policy.startupProbeDelay(after: .zero), .milliseconds(20))
        XCTAssertEqual(policy.startupProbeDelay(after: .seconds(60)), .milliseconds(250), "a slow start is not probed in a busy loop")
    }

    func testRestartBackoffDoublesUpToItsCap() {
        let backoff = SupervisionPolicy.Backoff(initial: .seconds(1), maximum: .seconds(60))
        XCTAssertEqual((1...8).map { backoff.delay(after: $0, random: 0) }, [1, 2, 4, 8, 16, 32, 60, 60].map { Duration.seconds($0) })
        XCTAssertEqual(backoff.delay(after: 1, random: 0.5), .milliseconds(900), "jitter takes up to 20% off")
    }

    func testAComponentWaitsForWhatItNeedsAndIsBlockedWhileThatHasFailed() async {
        let gate = DependencyGate()
        let dependent = FakeComponent(.agent, unit: "coder-agent@coder.service", needs: [.user], units: units)
        let (events, task) = start(dependent, gate: gate)
        await events.wait { $0.event == .pending(waitingFor: [.user]) }
        gate.set(.user, .failed("useradd: group coder exists"))
        await events.wait { if case .blocked(.user, _) = $0.event { true } else { false } }
        XCTAssertEqual(dependent.converges, 0, "nothing converges before its needs are ready")
        gate.set(.user, .ready)
        await events.wait { $0.event == .healthy(first: true) }
        task.cancel()
        await task.value
        XCTAssertEqual(dependent.converges, 1)
    }

    func testAComponentsPrefetchRunsWhileWhatItNeedsIsPendingAndItConvergesOnlyAfterThePrefetch() async {
        let gate = DependencyGate()
        let (download, finish) = AsyncStream<Void>.makeStream()
        let codeServer = FakeComponent(
            .codeServer, unit: unit, needs: [.user], units: units,
            prefetch: { context, _ in
                context.report("downloading")
                for await _ in download { break }
                return false
            })
        let (events, task) = start(codeServer, gate: gate)
        await events.wait { $0.event == .progress("downloading") }
        await events.wait { $0.event == .pending(waitingFor: [.user]) }
        gate.set(.user, .ready)
        await events.wait { $0.event == .converging }  // not pending: the wait is for its own download now
        for _ in 0..<1_000 { await Task.yield() }
        XCTAssertEqual(codeServer.converges, 0, "converge waits for the prefetch, which is still downloading")
        finish.yield()
        await events.wait { $0.event == .healthy(first: true) }
        task.cancel()
        await task.value
        XCTAssertEqual(codeServer.converges, 1)
        XCTAssertEqual(codeServer.convergesFollowingPrefetch, 1, "converge is told the prefetch's work is done")
    }

    func testAPrefetchWaitsForWhatItNeedsOnlyWhereItAsksAndWhatItChangedRestartsTheRunningUnit() async throws {
        let gate = DependencyGate()
        try await units.start(unit)  // the agent of the daemon's run before, still running
        let agent = FakeComponent(
            .agent, unit: unit, needs: [.user], units: units,
            prefetch: { context, needsReady in
                context.report("downloaded")
                try await needsReady.wait()
                context.report("checked as the user")
                return true  // a new binary
            })
        let (events, task) = start(agent, gate: gate)
        await events.wait { $0.event == .pending(waitingFor: [.user]) }
        await events.wait { $0.event == .progress("downloaded") }
        for _ in 0..<1_000 { await Task.yield() }
        XCTAssertFalse(events.events(of: .agent).contains(.progress("checked as the user")), "the check waits for the user")
        gate.set(.user, .ready)
        await events.wait { $0.event == .healthy(first: true) }
        task.cancel()
        await task.value
        XCTAssertTrue(events.events(of: .agent).contains(.progress("checked as the user")))
        XCTAssertEqual(units.record(of: unit).restarts, 1, "the running agent is restarted on the binary the prefetch installed")
    }

    func testAPrefetchThatFailsIsTheFirstConvergesFailureRetriedAsSuch() async {
        let codeServer = FakeComponent(
            .codeServer, unit: unit, units: units,
            prefetch: { _, _ in throw ComponentError(.server, "code-server 4.96.4: 503 Service Unavailable") })
        let events = await supervise(codeServer) { $0.event == .healthy(first: true) }
        let waits = events.compactMap { if case .waiting(let reason, _, let attempt) = $0 { "\(attempt) \(reason)" } else { nil } }
        XCTAssertEqual(waits, ["1 code-server 4.96.4: 503 Service Unavailable"], "\(events)")
        XCTAssertEqual(codeServer.converges, 1, "converge runs once, after the wait the prefetch's failure earned")
        XCTAssertEqual(codeServer.convergesFollowingPrefetch, 0, "and does the prefetch's work itself")
    }

    func testAComponentOrderedAfterABootUnitConvergesOnlyOnceThatUnitIsActive() async {
        let ssh = FakeComponent(.ssh, unit: "ssh.service", afterUnits: ["sysinit.target"], units: units)
        let (events, task) = start(ssh)
        await events.wait { if case .progress(let line) = $0.event { line.contains("sysinit.target") } else { false } }
        // The polls go on (each moves the virtual clock): five minutes of them, and still nothing converges.
        let asked = clock.now
        while asked.duration(to: clock.now) < .seconds(300) { await Task.yield() }
        XCTAssertEqual(ssh.converges, 0, "nothing converges while cloud-init's init stage is not over")
        try? await units.start("sysinit.target")
        await events.wait { $0.event == .healthy(first: true) }
        task.cancel()
        await task.value
        XCTAssertEqual(ssh.converges, 1)
    }

    func testAfterReadyWorkRunsOnceAfterTheFirstHealthyProbe() async {
        units.script(unit, .healthy)
        let component = component()
        let (events, task) = start(component)
        await events.wait { $0.event == .healthy(first: true) }
        units.crash(unit)
        await events.wait { if case .restarted = $0.event { true } else { false } }
        task.cancel()
        await task.value
        XCTAssertEqual(component.afterReadyRuns, 1)
    }

    func testASystemdCallThatFailsIsRetriedAndNeverEndsTheSupervision() async {
        units.failNext(3)
        let events = await supervise(component()) { $0.event == .healthy(first: true) }
        let waits = events.filter { if case .waiting(let reason, _, _) = $0 { reason.hasPrefix("systemd: ") } else { false } }
        XCTAssertEqual(waits.count, 3, "\(events)")
        XCTAssertFalse(events.contains { if case .failed = $0 { true } else { false } })
    }

    func testAComponentWithoutAUnitIsHealthyOnceConverged() async {
        let user = FakeComponent(.user, unit: nil, units: units)
        let events = await supervise(user) { $0.event == .healthy(first: true) }
        XCTAssertFalse(events.contains { if case .started = $0 { true } else { false } })
    }
}
