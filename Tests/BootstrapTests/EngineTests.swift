import BootstrapTestKit
import Foundation
import SystemdSupport
import WorkspaceSpec
import XCTest

@testable import Bootstrap

/// The whole supervision on fake units: components in parallel, needs,
/// the board's phase and READY=1, and the daemon's way out. Real clock,
/// a policy of milliseconds; conditions are waited on, never slept.
final class EngineTests: XCTestCase {
    private var policy: SupervisionPolicy {
        var policy = SupervisionPolicy()
        policy.probeInterval = .milliseconds(20)
        policy.startupProbeInterval = .milliseconds(5) ... .milliseconds(5)
        policy.startTimeout = .seconds(5)
        policy.restartBackoff = .init(initial: .milliseconds(5), maximum: .milliseconds(20))
        policy.serverRetry = .init(initial: .milliseconds(5), maximum: .milliseconds(20))
        policy.budget = .init(restarts: 2, window: .seconds(60))
        policy.cooldown = .seconds(60)
        return policy
    }

    private func board(required: [ComponentName]? = nil) -> (StatusBoard, String) {
        var spec = WorkspaceSpec(
            workspace: .init(owner: "alice", name: "dev", id: "1"), user: .init(name: "coder"),
            coder: .init(accessURL: "https://coder.example.com/", token: "t"))
        spec.readiness.required = required
        let file = NSTemporaryDirectory() + "status-\(UUID().uuidString).json"
        addTeardownBlock { try? FileManager.default.removeItem(atPath: file) }
        return (
            StatusBoard(
                spec: spec, specPath: nil, host: HostDetection(OSRelease(fields: ["ID": "debian", "VERSION_ID": "12"])),
                notifier: Notifier(), statusFile: file, logger: .init(label: "test")), file
        )
    }

    /// Runs `components` under one engine until `done` holds for the board, then stops it.
    private func run(
        _ components: [FakeComponent<ContinuousClock>], units: FakeUnits<ContinuousClock>, board: StatusBoard,
        until done: @escaping @Sendable (WorkspaceStatus) -> Bool
    ) async {
        let events = RecordedEvents(forwardingTo: board)
        let policy = self.policy
        let task = Task {
            await Engine.supervise(
                components, context: { ComponentContext.testing($0.name, events: events) }, units: units,
                events: events, policy: policy, clock: ContinuousClock())
        }
        await events.wait { _ in done(board.snapshot) }
        task.cancel()
        await task.value
    }

    private func workspace(_ units: FakeUnits<ContinuousClock>, agent: [FakeComponent<ContinuousClock>.Outcome] = [.converged(changed: false)])
        -> [FakeComponent<ContinuousClock>]
    {
        [
            FakeComponent(.user, unit: nil, units: units),
            FakeComponent(.ssh, unit: "ssh.service", units: units),
            FakeComponent(.docker, unit: "docker.service", units: units),
            FakeComponent(.codeServer, unit: "code-server@coder.service", needs: [.user], units: units),
            FakeComponent(.agent, unit: "coder-agent@coder.service", needs: [.user], units: units, outcomes: agent),
        ]
    }

    func testEveryComponentComesUpAndReadyIsSentOnce() async throws {
        let socket = try NotifySocket()
        let units = FakeUnits(clock: ContinuousClock(), restartDelay: .milliseconds(50))
        let (board, _) = board()
        await run(workspace(units), units: units, board: board) { $0.isReady }
        XCTAssertEqual(board.snapshot.summary, "ready: user ssh docker code-server agent")
        XCTAssertEqual(socket.received().components(separatedBy: "READY=1").count - 1, 1)
    }

    func testReadinessIsSentWhenARequiredComponentFailsForGood() async throws {
        let socket = try NotifySocket()
        let units = FakeUnits(clock: ContinuousClock(), restartDelay: .milliseconds(50))
        units.script("coder-agent@coder.service", .exitsAtOnce)
        let (board, _) = board()
        await run(workspace(units), units: units, board: board) { $0.phase == .failed }
        XCTAssertTrue(socket.received().contains("READY=1"), "the boot does not wait on a component that failed for good")
        let agent = board.snapshot.components.first { $0.name == .agent }!
        XCTAssertEqual(agent.state, .failed)
        XCTAssertEqual(agent.journalTail, units.journal)
        XCTAssertGreaterThanOrEqual(agent.restarts, policy.budget.restarts + 1)
    }

    func testAnOptionalComponentThatFailsLeavesTheWorkspaceDegradedButReady() async {
        let units = FakeUnits(clock: ContinuousClock(), restartDelay: .milliseconds(50))
        units.script("coder-agent@coder.service", .exitsAtOnce)
        let (board, _) = board(required: [.user, .ssh, .docker, .codeServer])
        await run(workspace(units), units: units, board: board) { $0.components.first { $0.name == .agent }?.state == .failed }
        XCTAssertEqual(board.snapshot.phase, .degraded)
        XCTAssertTrue(board.snapshot.isReady)
    }

    func testTheAgentWaitsForTheServerWithoutFailingAndComesUpWhenItAnswers() async {
        let units = FakeUnits(clock: ContinuousClock(), restartDelay: .milliseconds(50))
        let outage = Array(repeating: FakeComponent<ContinuousClock>.Outcome.fails(ComponentError(.server, "coder.example.com answered HTTP 503")), count: 5)
        let (board, _) = board()
        let components = workspace(units, agent: outage + [.converged(changed: false)])
        await run(components, units: units, board: board) { $0.isReady }
        XCTAssertEqual(units.record(of: "coder-agent@coder.service").restarts, 0, "a server outage is not a crash")
        XCTAssertEqual(components[4].converges, 6)
    }

    func testEveryWayOutOfRunSendsStoppingAndWritesTheFinalStatus() async throws {
        let socket = try NotifySocket()
        let root = NSTemporaryDirectory() + "engine-\(UUID().uuidString)"
        addTeardownBlock { try? FileManager.default.removeItem(atPath: root) }
        var spec = WorkspaceSpec(workspace: .init(owner: "alice", name: "dev", id: "1"), user: .init(name: "coder"))
        spec.readiness.port = Int.random(in: 30000...60000)
        var engine = Engine(spec: spec, specPath: nil, logger: .init(label: "test"))
        engine.paths = Paths(root: root)
        // No systemd on this machine's bus: the run cannot go on, and must still say it stops.
        if FileManager.default.fileExists(atPath: "/run/systemd/system") { throw XCTSkip("this machine runs systemd: the run would go on") }
        do {
            try await engine.run()
            XCTFail("the run should have failed without systemd")
        } catch {}
        XCTAssertTrue(socket.received().contains("STOPPING=1"))
        let status = try StatusEncoding.decode(Array(Data(contentsOf: URL(fileURLWithPath: engine.paths.statusFile))))
        XCTAssertEqual(status.phase, .stopping)
    }
}
