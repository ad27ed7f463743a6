import Testing
@testable import Levee

/// Latency that rises while a concurrency limit holds an overload is the limit's to answer: it is
/// not taken for the dependency's own slowness, which would drop the limit mid-overload.
@Suite struct ExogenousLatencyTests {
    @Test func aSlowerDependencyUnderTheSameOverloadKeepsTheLimit() throws {
        let (levee, recorder) = try Levee.coreRecorded(successRate: 0.99)
        var driver = CoreDriver(levee)
        // 100 workers at 10 ms (10,000 calls per second) and an unbounded queue, trained at 1,000
        // per second. Then a mild overload (10 % over what the workers serve): the limit is engaged
        // by the growth of in-flight, with the latency that confirmed it as its reference.
        let healthy = OverloadRefusalTests.boundedQueue(base: 10e6, workers: 100, room: .max)
        driver.run(seconds: 5, rate: 1_000, call: healthy)
        driver.run(seconds: 1, rate: 11_000, call: healthy)
        #expect(levee.statistics.concurrencyLimit != nil)
        // The limit holds the overload for many control steps.
        driver.run(seconds: 5, rate: 11_000, call: healthy)
        let held = try #require(levee.statistics.concurrencyLimit)
        let baseline = levee.statistics.baselineLatencyNanoseconds
        let changesBefore = recorder.changes.count

        // Then the dependency's workers slow to 80 ms while the overload goes on: what they serve
        // falls to an eighth. Dropping the limit now (taking the slowness for the dependency's own
        // and forgetting the overload) would let 11,000 calls per second into the queue.
        var unlimitedDecisions = 0
        let slow = OverloadRefusalTests.boundedQueue(base: 80e6, workers: 100, room: .max)
        driver.run(seconds: 2, rate: 11_000, call: slow) { _, _ in
            if levee.statistics.concurrencyLimit == nil { unlimitedDecisions += 1 }
        }
        #expect(unlimitedDecisions == 0)
        #expect(!recorder.changes.dropFirst(changesBefore).contains { $0.reason == .capacityRecovered })
        let limit = try #require(levee.statistics.concurrencyLimit)
        #expect(limit <= held)
        #expect(levee.statistics.baselineLatencyNanoseconds <= 1.1 * baseline)
    }
}
