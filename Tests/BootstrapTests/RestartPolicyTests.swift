import XCTest
@testable import Bootstrap

final class RestartPolicyTests: XCTestCase {
    func testBackoffDoublesUpToTheCapAndJitterOnlyShortensIt() {
        let policy = RestartPolicy()
        XCTAssertEqual(policy.backoff(beforeRestart: 1, random: 0), .seconds(1))
        XCTAssertEqual(policy.backoff(beforeRestart: 4, random: 0), .seconds(8))
        XCTAssertEqual(policy.backoff(beforeRestart: 30, random: 0), .seconds(60))
        XCTAssertEqual(policy.backoff(beforeRestart: 4, random: 0.5), .seconds(8) * 0.9)
    }

    func testBudgetIsSpentByTooManyRestartsInTheWindowOnly() {
        let policy = RestartPolicy()
        var history = RestartHistory()
        let start = ContinuousClock.now
        for restart in 0..<policy.budget {
            XCTAssertTrue(history.record(at: start + .seconds(restart), policy: policy))
        }
        XCTAssertFalse(history.record(at: start + .seconds(10), policy: policy), "the sixth restart in ten minutes spends the budget")
        var spread = RestartHistory()
        for restart in 0..<(policy.budget * 3) {
            XCTAssertTrue(spread.record(at: start + .seconds(restart * 200), policy: policy), "restarts far apart never spend it")
        }
    }
}
