import Testing
@testable import Levee

/// Latency that rises while a concurrency limit holds an overload is the limit's to answer: it is
/// not taken for the dependency's own slowness, which would drop the limit mid-overload.
@Suite struct ExogenousLatencyTests {
    /// A dependency with `workers` workers: a call takes `base` times the queueing factor, and a
    /// call that finds more than `room` calls already there is refused after 0.1 ms (a 503).
    static func dependency(base: Int64, workers: Double = 100, room: Int = 120) -> CoreDriver.Call {
        { inFlight, _ in
            if inFlight > room { return (coreMillisecond / 10, .failure) }
            return (Int64(Double(base) * max(1, Double(inFlight) / workers)), .success)
        }
    }

    /// Trained at 1,000 calls per second and 10 ms, then overloaded until the limit engages: on
    /// refusals with a bounded queue, on the growth of in-flight with an unbounded one.
    static func limited(workers: Double = 100, room: Int, overload: Double) throws
        -> (Levee, CoreTransitionRecorder, CoreDriver) {
        let (levee, recorder) = try Levee.coreRecorded(successRate: 0.99)
        var driver = CoreDriver(levee)
        let healthy = dependency(base: 10 * coreMillisecond, workers: workers, room: room)
        driver.run(seconds: 5, rate: 1_000, call: healthy)
        driver.run(seconds: 1, rate: overload, call: healthy)
        #expect(levee.statistics.concurrencyLimit != nil)
        return (levee, recorder, driver)
    }

    @Test func aSlowerDependencyUnderTheSameOverloadKeepsTheLimit() throws {
        // A mild overload (10 % over what the workers serve) with an unbounded queue: the limit is
        // engaged by the growth of in-flight, with the latency that confirmed it as its reference.
        let room = Int.max
        var (levee, recorder, driver) = try Self.limited(room: room, overload: 11_000)
        // The limit holds the overload for many control steps.
        driver.run(seconds: 5, rate: 11_000, call: Self.dependency(base: 10 * coreMillisecond, room: room))
        let held = try #require(levee.statistics.concurrencyLimit)
        let baseline = levee.statistics.baselineLatencyNanoseconds
        let changesBefore = recorder.changes.count

        // Then the dependency's workers slow to 80 ms while the overload goes on: what they serve
        // falls to an eighth. Dropping the limit now (taking the slowness for the dependency's own
        // and forgetting the overload) would let 11,000 calls per second into the queue.
        var unlimitedDecisions = 0
        driver.run(seconds: 2, rate: 11_000, call: Self.dependency(base: 80 * coreMillisecond, room: room)) { _, _ in
            if levee.statistics.concurrencyLimit == nil { unlimitedDecisions += 1 }
        }
        #expect(unlimitedDecisions == 0)
        #expect(!recorder.changes.dropFirst(changesBefore).contains { $0.reason == .capacityRecovered })
        let limit = try #require(levee.statistics.concurrencyLimit)
        #expect(limit <= held)
        #expect(levee.statistics.baselineLatencyNanoseconds <= 1.1 * baseline)
    }
}
