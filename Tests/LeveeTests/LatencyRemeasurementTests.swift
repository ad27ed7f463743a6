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

        // The workers recover to 10 ms, still under twice what they serve. Steering to 1.5 times
        // (where the setpoint starts) the old baseline (37.5 ms) would keep about 75 calls out, 55 of
        // them queued; the dependency's own latency is 10 ms, and 1.5 times that keeps the queue short.
        let (admittedPerSecond, statistics) = Self.settle(&driver, base: 10e6, seconds: 120)
        #expect(statistics.concurrencyLimit != nil)
        #expect(statistics.baselineLatencyNanoseconds <= 12e6)
        #expect(statistics.recentLatencyNanoseconds <= 20e6)
        // The workers stay busy: the minute's re-measurement at the floor costs a few round trips.
        #expect(admittedPerSecond >= 1_800)
    }

    /// A dependency whose slowness follows its load over seconds, not calls: 20 workers at 10 ms,
    /// slower as their smoothed load (5 s half-life) passes 80 %, 1.5 times at full load and
    /// 3 times at 1.5 (as a server slows with CPU contention or garbage collection); beyond 100
    /// calls it refuses fast. It serves the most, 1,600 calls per second, at a load of 80 %.
    final class LaggingDependency {
        var load = 0.0
        var updatedAt: Int64 = 0
        static let workers = 20.0
        static let halfLifeSeconds = 5.0

        /// Advances the smoothed load to `instant`, where `inFlight` calls are out.
        func advance(to instant: Int64, inFlight: Int) {
            let elapsed = Double(instant - updatedAt) / 1e9
            load += (1 - naturalExp(-elapsed * 0.6931471805599453 / Self.halfLifeSeconds))
                * (Double(inFlight) / Self.workers - load)
            updatedAt = instant
        }

        var slowdown: Double {
            if load <= 0.8 { return 1 }
            if load <= 1 { return 1 + 2.5 * (load - 0.8) }
            return 1.5 + 3 * (load - 1)
        }

        /// The bounded queue of the overload tests, with its workers slowed by the smoothed load.
        var call: CoreDriver.Call {
            { inFlight, rng in
                OverloadRefusalTests.boundedQueue(base: 10e6 * self.slowdown, workers: Self.workers)(inFlight, &rng)
            }
        }
    }

    @Test func aDependencyStillSlowFromItsOwnLoadDoesNotRaiseTheBaseline() throws {
        let (levee, _) = try Levee.coreRecorded(successRate: 0.99)
        var driver = CoreDriver(levee)
        let dependency = LaggingDependency()
        let track: (Admission, Int64) -> Void = { _, instant in
            dependency.advance(to: instant, inFlight: levee.statistics.inFlight)
        }
        driver.run(seconds: 5, rate: 1_000, call: dependency.call, onDecision: track)
        // Overloaded at twice what it serves, for five minutes.
        driver.run(seconds: 240, rate: 4_000, call: dependency.call, onDecision: track)
        let settled = driver.run(seconds: 60, rate: 4_000, call: dependency.call, onDecision: track)

        // A minute's re-measurement drains Levee's calls within a round trip, but the workers stay
        // slow for seconds after. Read as the dependency's own latency, that raised the baseline
        // to 27 ms, and steering to 1.5 times it (the setpoint then) held a standing queue at a load of 1.5, where the
        // workers serve 680 calls per second. With the baseline at the workers' own 10 ms the limit
        // holds the load near 1.0 (about 1,150 per second; the best, 1,600 at a load of 0.8, is
        // below the latency the limit starts steering to; `SetpointSearchTests` asks for more over ten
        // minutes).
        let statistics = levee.statistics
        #expect(statistics.concurrencyLimit != nil)
        #expect(statistics.baselineLatencyNanoseconds <= 13e6)
        #expect(Double(settled.admitted) / 60 >= 1_000)
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
