import Testing
@testable import Levee

/// While a concurrency limit binds, the baseline learns nothing from the calls it admits (they
/// queue), yet the dependency's own latency goes on drifting. The limit re-measures it every
/// minute at its floor, where Levee's calls cannot queue behind each other.
@Suite struct LatencyRemeasurementTests {
    /// Trained at `base`, then overloaded at 4,000 calls per second until the limit engages.
    static func engagedLimit(base: Double, trainingRate: Double) throws -> (Levee, CoreDriver) {
        let (levee, _) = try Levee.coreRecorded(successRate: 0.99)
        var driver = CoreDriver(levee)
        driver.run(seconds: 5, rate: trainingRate, call: OverloadRefusalTests.boundedQueue(base: base))
        driver.run(seconds: 10, rate: 4_000, call: OverloadRefusalTests.boundedQueue(base: base))
        #expect(levee.statistics.concurrencyLimit != nil)
        return (levee, driver)
    }

    /// The overload goes on with the dependency now serving at `base`: `seconds` to settle, then
    /// the calls admitted per second over one more minute, and the statistics after it.
    static func settle(_ driver: inout CoreDriver, base: Double, seconds: Double) -> (admittedPerSecond: Double, LeveeStatistics) {
        let dependency = OverloadRefusalTests.boundedQueue(base: base)
        driver.run(seconds: seconds, rate: 4_000, call: dependency)
        let settled = driver.run(seconds: 60, rate: 4_000, call: dependency)
        return (Double(settled.admitted) / 60, driver.levee.statistics)
    }

    @Test func aLimitFollowsTheDependencysOwnLatencyUp() throws {
        var (_, driver) = try Self.engagedLimit(base: 10e6, trainingRate: 1_000)

        // The workers slow to 17 ms while the overload goes on: 1.7 times the baseline, past the
        // latency the limit steers to, yet short of what the idle limiter would watch. Against the
        // old baseline even a single call is too slow, and the limit would sink to its floor of
        // 4 calls (about 235 per second) for good; the 20 workers serve about 1,176.
        let (admittedPerSecond, statistics) = Self.settle(&driver, base: 17e6, seconds: 180)
        #expect(statistics.concurrencyLimit != nil)  // still overloaded: the limit stays
        #expect(statistics.baselineLatencyNanoseconds >= 15e6 && statistics.baselineLatencyNanoseconds <= 20e6)
        #expect(admittedPerSecond >= 900)
    }

    @Test func aLimitFollowsTheDependencysOwnLatencyDown() throws {
        // Trained while the workers take 25 ms, then overloaded: the limit engages with that baseline.
        var (_, driver) = try Self.engagedLimit(base: 25e6, trainingRate: 400)

        // The workers recover to 10 ms, still under twice what they serve. Steering to 1.5 times the
        // old baseline (37.5 ms) would keep about 75 calls out, 55 of them queued; the dependency's
        // own latency is 10 ms, and 1.5 times that keeps the queue short.
        let (admittedPerSecond, statistics) = Self.settle(&driver, base: 10e6, seconds: 120)
        #expect(statistics.concurrencyLimit != nil)
        #expect(statistics.baselineLatencyNanoseconds <= 12e6)
        #expect(statistics.recentLatencyNanoseconds <= 20e6)
        // The workers stay busy: the minute's re-measurement at the floor costs a few round trips.
        #expect(admittedPerSecond >= 1_800)
    }

    @Test func aMeasurementHoldsAdmissionAtTheFloorOnlyBriefly() throws {
        var (levee, driver) = try Self.engagedLimit(base: 10e6, trainingRate: 1_000)
        let steady = OverloadRefusalTests.boundedQueue(base: 10e6)

        // Two and a half minutes of the same overload: a measurement each minute, each holding
        // admission at the floor of 4 calls for a few round trips, then the limit is back.
        var atFloor: [Int64] = []
        var decisions = 0
        driver.run(seconds: 150, rate: 4_000, call: steady) { _, instant in
            decisions += 1
            if let limit = levee.statistics.concurrencyLimit, limit <= 4 { atFloor.append(instant) }
        }
        let first = try #require(atFloor.first)
        let last = try #require(atFloor.last)
        #expect(last - first >= 50 * coreSecond)  // more than one measurement
        #expect(Double(atFloor.count) <= 0.01 * Double(decisions))
        #expect((levee.statistics.concurrencyLimit ?? 0) > 4)
    }
}
