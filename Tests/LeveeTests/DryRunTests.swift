import Testing
@testable import Levee

@Suite struct DryRunTests {
    static let slo = try! SLO(successRate: 0.9, timeout: .seconds(1))

    /// A failure rate that moves through every error-side regime of SLO 90 %: healthy, partially
    /// degraded (shedding), down (open), healthy again (recovery).
    static func failureRate(at index: Int) -> Double {
        switch index {
        case ..<3_000: 0.01
        case ..<15_000: 0.13
        case ..<25_000: 1
        default: 0.01
        }
    }

    @Test func dryRunAdmitsEveryCallAndReportsWhatItWouldHaveRejected() throws {
        let (levee, recorder) = try Levee.coreRecorded(successRate: 0.9, options: .init(dryRun: true))
        var driver = CoreDriver(levee, seed: 21)
        var wouldReject: [RejectionReason: Int] = [:]
        var offered = 0
        for phase in [0.01, 0.13, 1, 0.01] {
            let window = driver.run(seconds: 12, rate: 1_000, call: CoreDriver.constant(failureRate: phase)) { admission, _ in
                if let reason = admission.permit?.wouldHaveBeenRejected { wouldReject[reason, default: 0] += 1 }
            }
            #expect(window.admitted == window.offered)
            offered += window.offered
        }
        let counters = levee.statistics.counters
        #expect(counters.admitted == offered)
        #expect(counters.rejected == 0)
        #expect(counters.dryRunRejections == wouldReject.values.reduce(0, +))
        #expect(wouldReject[.shedding, default: 0] > 0)
        #expect(wouldReject[.circuitOpen, default: 0] > 0)
        // The state still reports the decisions: it went throttled and open like a live Levee.
        #expect(recorder.changes.contains { $0.to.kind == .throttled })
        #expect(recorder.changes.contains { $0.to == .open })
    }

    /// The same input through a dry-run Levee and a live one: the live one rejects exactly the
    /// calls the dry run flags, for the same reason. (The flagged calls
    /// are released as `.ignored` in the dry run: the live Levee never sees their outcome.)
    @Test func liveModeRejectsExactlyWhatDryRunFlags() throws {
        let (dry, dryRecorder) = try Levee.coreRecorded(successRate: 0.9, options: .init(dryRun: true))
        let (live, liveRecorder) = try Levee.coreRecorded(successRate: 0.9)
        var rng = SplitMix64(seed: 33)
        var now: Int64 = 0
        var flagged = 0
        var mismatches = 0
        for index in 0..<40_000 {
            now += coreMillisecond
            let failed = rng.chance(Self.failureRate(at: index))
            let dryPermit = try #require(try dry.acquire(at: now).permit)
            let liveAdmission = try live.acquire(at: now)
            let done = now + coreMillisecond / 2
            if let wouldBe = dryPermit.wouldHaveBeenRejected {
                flagged += 1
                if case .rejected(let rejection) = liveAdmission, rejection.reason == wouldBe {} else { mismatches += 1 }
                try dry.release(dryPermit, outcome: .ignored, at: done)
            } else {
                guard let livePermit = liveAdmission.permit else {
                    mismatches += 1
                    try dry.release(dryPermit, outcome: .ignored, at: done)
                    continue
                }
                #expect(livePermit.isProbe == dryPermit.isProbe)
                try dry.release(dryPermit, outcome: failed ? .failure : .success, at: done)
                try live.release(livePermit, outcome: failed ? .failure : .success, at: done)
            }
            now = done
        }
        #expect(mismatches == 0)
        #expect(flagged > 1_000)
        let dryCounters = dry.statistics.counters
        let liveCounters = live.statistics.counters
        #expect(dryCounters.dryRunRejections == liveCounters.rejected)
        #expect(dryCounters.rejected == 0)
        #expect(dryCounters.admitted == 40_000)
        #expect(dryCounters.successes == liveCounters.successes)
        #expect(dryCounters.failures == liveCounters.failures)
        #expect(dryCounters.probes == liveCounters.probes)
        #expect(dryRecorder.changes == liveRecorder.changes)
        #expect(dry.state == live.state)
    }

    @Test func dryRunFlagsConcurrencyLimitRejections() throws {
        let (levee, recorder) = try Levee.coreRecorded(successRate: 0.99, options: .init(dryRun: true))
        var driver = CoreDriver(levee)
        driver.run(seconds: 5, rate: 1_000, call: ExplicitTimeTests.queueing())
        var flaggedLimit = 0
        let window = driver.run(seconds: 5, rate: 2_500, call: ExplicitTimeTests.queueing()) { admission, _ in
            if admission.permit?.wouldHaveBeenRejected == .concurrencyLimit {
                flaggedLimit += 1
                let statistics = levee.statistics
                #expect(statistics.concurrencyLimit != nil)
                #expect(statistics.inFlight > statistics.concurrencyLimit ?? .max)
            }
        }
        #expect(window.rejected == 0 || levee.statistics.inFlight == levee.options.maximumInFlight)
        #expect(flaggedLimit > 0)
        #expect(recorder.changes.first?.reason == .overload)
    }

    /// The permit table's ceiling is memory, not policy: it binds even in dry run.
    @Test func theHardCeilingBindsEvenInDryRun() throws {
        let levee = Levee(slo: Self.slo, options: .init(dryRun: true, maximumInFlight: 2))
        let permits = try (0..<2).map { try #require(try levee.acquire(at: $0).permit) }
        guard case .rejected(let rejection) = try levee.acquire(at: 2) else {
            Issue.record("the third call must be rejected for real")
            return
        }
        #expect(rejection.reason == .concurrencyLimit)
        #expect(levee.statistics.counters.rejectedLimit == 1)
        #expect(levee.statistics.counters.dryRunRejections == 0)
        for permit in permits { try levee.release(permit, outcome: .success, at: 3) }
        #expect(levee.statistics.inFlight == 0)
    }

    @Test func liveModeNeverReportsDryRunRejections() throws {
        let levee = Levee(slo: Self.slo)
        var driver = CoreDriver(levee, seed: 2)
        driver.run(seconds: 5, rate: 1_000, call: CoreDriver.constant(failureRate: 0.01))
        driver.run(seconds: 5, rate: 1_000, call: CoreDriver.constant(failureRate: 1)) { admission, _ in
            #expect(admission.permit?.wouldHaveBeenRejected == nil)
        }
        #expect(levee.statistics.counters.dryRunRejections == 0)
        #expect(levee.statistics.counters.rejected > 0)
    }
}
