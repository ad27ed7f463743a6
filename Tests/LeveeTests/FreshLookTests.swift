import Testing
@testable import Levee

/// An open circuit takes a fresh look at its dependency when offered traffic falls confidently
/// (see `ErrorControl.beginFreshLook`): the probes budgeted for a long outage, a fraction of the
/// healthy rate backed off with the outage's age, are slowest just when a retry storm ends.
@Suite struct FreshLookTests {
    static let slo = try! SLO(successRate: 0.9, timeout: .seconds(1))

    /// Arrivals of a Poisson process at `rate` calls a second, counted per tick into `traffic`,
    /// for `seconds`; returns how many ticks found the offered rate falling.
    static func ticksFoundFalling(_ traffic: inout TrafficEstimator, rate: Double, seconds: Double,
                                  rng: inout SplitMix64, from start: inout Int64) -> Int {
        let tick = TrafficEstimator.tickNanoseconds
        let end = start + Int64(seconds * 1e9)
        var nextArrival = start + Int64(-naturalLog(1 - rng.uniform()) / rate * 1e9)
        var falling = 0
        while start < end {
            start += tick
            var arrivals = 0
            while nextArrival <= start {
                arrivals += 1
                nextArrival += Int64(-naturalLog(1 - rng.uniform()) / rate * 1e9)
            }
            traffic.arrivals = arrivals
            traffic.close(at: start, healthy: true)
            if traffic.offeredRateIsFalling { falling += 1 }
        }
        return falling
    }

    /// Steady Poisson traffic never reads as a fall (four standard deviations on every tick), and
    /// below about 160 calls a second a tenth of a second holds too few calls to show one at all.
    @Test(arguments: [50.0, 500, 5_000])
    func steadyTrafficNeverReadsAsAFall(rate: Double) {
        var traffic = TrafficEstimator()
        traffic.tickStart = 0
        traffic.arrivalRate = rate
        traffic.recentArrivalRate = rate
        var rng = SplitMix64(seed: 7)
        var now: Int64 = 0
        let falling = Self.ticksFoundFalling(&traffic, rate: rate, seconds: 200_000 / rate * 10, rng: &rng, from: &now)
        #expect(falling == 0, "\(falling) ticks of steady \(rate)/s traffic read as a fall")
    }

    /// Traffic halved shows as a fall within a fifth of a second; a fall by less than a fifth never does.
    @Test func aFallShowsQuicklyAndASmallDipNever() {
        for (after, shows) in [(1_000.0, true), (1_700.0, false)] {
            var traffic = TrafficEstimator()
            traffic.tickStart = 0
            var rng = SplitMix64(seed: 3)
            var now: Int64 = 0
            _ = Self.ticksFoundFalling(&traffic, rate: 2_000, seconds: 10, rng: &rng, from: &now)
            let early = Self.ticksFoundFalling(&traffic, rate: after, seconds: 0.2, rng: &rng, from: &now)
            let later = Self.ticksFoundFalling(&traffic, rate: after, seconds: 5, rng: &rng, from: &now)
            if shows {
                #expect(early > 0, "2,000 -> \(after) calls a second not seen within 0.2 s")
            } else {
                #expect(early + later == 0, "2,000 -> \(after) calls a second read as a fall")
            }
            // Once the average has caught up, the fall is over.
            let settled = Self.ticksFoundFalling(&traffic, rate: after, seconds: 5, rng: &rng, from: &now)
            #expect(settled == 0)
        }
    }

    /// Calls of 20 ms failing 1 % of the time, or always.
    static var healthy: CoreDriver.Call { CoreDriver.constant(latency: 20 * coreMillisecond, failureRate: 0.01) }
    static var down: CoreDriver.Call { CoreDriver.constant(latency: 20 * coreMillisecond, failureRate: 1) }

    /// Two minutes healthy at 200 calls a second, then ten minutes down, during which callers
    /// offer `stormRate`, then `afterRate` calls a second failing at `failureRate`. Returns the
    /// Levee, its recorder, the driver and the instant the outage's last phase began.
    static func outage(stormRate: Double, afterRate: Double = 200, failureRate: Double,
                       seconds: Double = 20) throws -> (Levee, CoreTransitionRecorder, CoreDriver, Int64, CoreWindow) {
        let (levee, recorder) = try Levee.coreRecorded(successRate: 0.9)
        var driver = CoreDriver(levee)
        driver.run(seconds: 120, rate: 200, call: healthy)
        driver.run(seconds: 600, rate: stormRate, call: down)
        #expect(levee.state == .open)
        let changedAt = driver.now
        let window = driver.run(seconds: seconds, rate: afterRate,
                                call: CoreDriver.constant(latency: 20 * coreMillisecond, failureRate: failureRate))
        return (levee, recorder, driver, changedAt, window)
    }

    /// When a retry storm ends and the dependency has healed, the fresh look recovers in less than
    /// half the time the outage's backed-off probes take when traffic stays level (0.88 s against
    /// 2.09 s here).
    @Test func aStormEndingOnAHealedDependencyRecoversSooner() throws {
        let (_, stormRecorder, _, stormEnded, _) = try Self.outage(stormRate: 800, failureRate: 0.01)
        let (_, levelRecorder, _, healed, _) = try Self.outage(stormRate: 200, failureRate: 0.01)
        let afterStorm = try #require(stormRecorder.changes.last { $0.to == .closed })
        let level = try #require(levelRecorder.changes.last { $0.to == .closed })
        #expect(afterStorm.at > stormEnded && level.at > healed)
        let sooner = Double(afterStorm.at - stormEnded) / 1e9, later = Double(level.at - healed) / 1e9
        #expect(sooner <= 0.5 * later, "closed \(sooner) s after the storm ended, \(later) s after healing")
    }

    /// A storm that ends on a dependency still down costs a handful of probes: each fresh look ends
    /// at its first failure, and the circuit stays open.
    @Test func aStormEndingOnADependencyStillDownCostsAFewProbes() throws {
        let (levee, recorder, _, _, window) = try Self.outage(stormRate: 800, failureRate: 1, seconds: 5)
        #expect(levee.state == .open)
        #expect(recorder.changes.count == 1)
        #expect(window.probes == window.admitted)
        // Probing as a new outage would, at the rate offered now: the probe fraction of it.
        #expect(Double(window.probes) <= 1.5 * ErrorPolicy.baseProbeFraction * Double(window.offered),
                "\(window.probes) probes of \(window.offered) calls offered")
    }

    /// A snapshot taken during a fresh look carries it: the restored Levee probes on the same schedule.
    @Test func aSnapshotKeepsTheFreshLook() throws {
        var (original, _, originalDriver, _, _) = try Self.outage(stormRate: 800, failureRate: 1, seconds: 0)
        // Into the fall, until a look is under way (each failed probe ends one).
        var snapshot = original.snapshot()
        for _ in 0..<100 where snapshot.freshLookRate == 0 {
            originalDriver.run(seconds: 0.01, rate: 200, call: Self.down)
            snapshot = original.snapshot()
        }
        #expect(try #require(snapshot.freshLookRate) > 0)
        let restored = Levee(slo: Self.slo)
        try restored.restore(from: snapshot, at: originalDriver.now)
        var restoredDriver = CoreDriver(restored, seed: 5, start: originalDriver.now)
        originalDriver.pending = BinaryHeap()
        originalDriver.rng = SplitMix64(seed: 5)
        var probes: ([Int64], [Int64]) = ([], [])
        originalDriver.run(seconds: 3, rate: 200, call: Self.healthy) { admission, at in
            if admission.permit != nil { probes.0.append(at) }
        }
        restoredDriver.run(seconds: 3, rate: 200, call: Self.healthy) { admission, at in
            if admission.permit != nil { probes.1.append(at) }
        }
        #expect(probes.0.count > 10)
        #expect(probes.0 == probes.1)
    }
}
