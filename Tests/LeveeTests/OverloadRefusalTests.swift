import Testing
@testable import Levee

/// Failures caused by admission (a full queue turning calls away fast) are the concurrency
/// limiter's to answer; failures the dependency produces on its own are the error side's.
@Suite struct OverloadRefusalTests {
    /// A dependency with 20 workers serving a call in 10 ms (2,000 per second) and room for 80
    /// more calls in its queue. A call that finds 100 already there is refused after 0.1 ms (a 503);
    /// the others take 10 ms times the queueing factor and succeed.
    static func boundedQueue(base: Double = 10e6, workers: Double = 20, room: Int = 100) -> CoreDriver.Call {
        { inFlight, _ in
            if inFlight > room { return (coreMillisecond / 10, .failure) }
            return (Int64(base * max(1, Double(inFlight) / workers)), .success)
        }
    }

    /// The same queue with exponential service times, down to zero: 3.5 % of successes are as fast
    /// as a refusal, so a fast failure alone does not say "refused".
    static func boundedQueueExponential(base: Double = 10e6, workers: Double = 20, room: Int = 100) -> CoreDriver.Call {
        { inFlight, rng in
            if inFlight > room { return (coreMillisecond / 10, .failure) }
            let service = -base * naturalLog(1 - rng.uniform())
            return (max(1, Int64(service * max(1, Double(inFlight) / workers))), .success)
        }
    }

    enum ServiceTimes: String, CaseIterable, Sendable {
        case steady, exponential

        var queue: CoreDriver.Call {
            switch self {
            case .steady: OverloadRefusalTests.boundedQueue()
            case .exponential: OverloadRefusalTests.boundedQueueExponential()
            }
        }

        /// Admitted calls per second the limit keeps of the dependency's 2,000. With exponential
        /// service times the calls queued under a higher limit go on completing long after a cut
        /// (their mean latency is 1.8 times the geometric mean); control steps spaced by the
        /// geometric mean read them and cut again, and the limit swung between 1 and 55 (1,239 per
        /// second). Spaced by the mean latency, it keeps 1,879.
        var minimumThroughput: Double { self == .steady ? 1_500 : 1_700 }
    }

    @Test(arguments: ServiceTimes.allCases)
    func fastRefusalsUnderOverloadEngageTheLimitInsteadOfOpening(_ service: ServiceTimes) throws {
        let (levee, recorder) = try Levee.coreRecorded(successRate: 0.99)
        var driver = CoreDriver(levee)
        let healthy = driver.run(seconds: 5, rate: 1_000, call: service.queue)
        #expect(healthy.rejected == 0)
        #expect(levee.state == .closed)

        // Twice the capacity: without a limit the queue stays full and about half the calls are
        // refused. With exponential service times, what marks the fast failures as a queue's is that
        // they come by the thousand, far more of the failures than of the successes.
        let overloadStart = driver.now
        let first = driver.run(seconds: 2, rate: 4_000, call: service.queue)
        let engaged = try #require(recorder.changes.first)
        #expect(engaged.to.kind == .throttled && engaged.reason == .overload)
        // Engaged by the first refusals, within a tenth of a second.
        #expect(engaged.at - overloadStart <= 100 * coreMillisecond)
        #expect(first.rejections[.circuitOpen, default: 0] == 0)

        // Never opened: every rejection is the limit's, the limit keeps the queue from filling,
        // throughput is not given away, and the limit is given back when the overload ends.
        let queue = service.queue
        driver.expectLimitHoldsOverloadThenReleases({ _, inFlight, rng in queue(inFlight, &rng) },
                                                    recorder: recorder, minimumThroughput: service.minimumThroughput)
    }

    @Test func aDependencyThatFailsEverythingFastStillOpens() throws {
        var (levee, recorder, driver) = try CoreDriver.afterHealthyTraffic()
        #expect(levee.state == .closed)

        // Down: every call is refused within 0.1 ms, as fast as a full queue's refusals. Calls drain
        // at once, so few are ever out: that is the dependency's own failure, not a queue.
        let downStart = driver.now
        driver.run(seconds: 2, rate: 1_000, call: CoreDriver.constant(latency: coreMillisecond / 10, failureRate: 1))
        let opened = try #require(recorder.changes.first { $0.to == .open })
        #expect(opened.reason == .dependencyDown)
        #expect(opened.at - downStart <= 100 * coreMillisecond)
    }

    @Test func refusalsThatPersistUnderASmallLimitOpenTheCircuit() throws {
        let (levee, recorder) = try Levee.coreRecorded(successRate: 0.99)
        var driver = CoreDriver(levee)
        driver.run(seconds: 5, rate: 1_000, call: Self.boundedQueue())

        // Overload first: the limit engages on the refusals.
        driver.run(seconds: 1, rate: 4_000, call: Self.boundedQueue())
        #expect(levee.state.kind == .throttled)
        // Then the dependency starts failing two calls in three at its normal latency, however
        // few are sent: cutting the limit does not help, and the circuit opens within seconds.
        let sickStart = driver.now
        driver.run(seconds: 5, rate: 4_000, call: CoreDriver.constant(latency: 10 * coreMillisecond, failureRate: 0.67))
        let opened = try #require(recorder.changes.first { $0.to == .open })
        #expect(opened.at - sickStart <= 5 * coreSecond)
    }

    @Test func aLimitInForceWhenTheCircuitOpensStillBoundsProbesAndRecovery() throws {
        let (levee, recorder) = try Levee.coreRecorded(successRate: 0.99)
        var driver = CoreDriver(levee)
        driver.run(seconds: 5, rate: 1_000, call: Self.boundedQueue())
        driver.run(seconds: 1, rate: 4_000, call: Self.boundedQueue())
        let engaged = try #require(levee.statistics.concurrencyLimit)

        // The overloaded dependency now answers slowly and mostly fails: the circuit opens. Had the
        // limit been dropped, probes and the recovery ramp at 4,000 calls per second, each out for
        // a second, could keep hundreds of calls in it; the limit keeps them to what it allowed.
        // (The limit may still move before the circuit opens: successes of the calls sent before
        // the dependency slowed down let it grow for a few steps, and calls admitted then are
        // still out when it opens.)
        var highestLimit = engaged
        var mostInFlightWhileOpen = 0
        var limitAtOpening: Int?
        var highestLimitWhileOpen = 0
        var admittedBeyondTheLimitWhileOpen = 0
        var openWithoutALimit = 0
        driver.run(seconds: 60, rate: 4_000, call: CoreDriver.constant(latency: coreSecond, failureRate: 0.9)) { admission, _ in
            let statistics = levee.statistics
            if let limit = statistics.concurrencyLimit { highestLimit = max(highestLimit, limit) }
            guard statistics.state == .open else { return }
            mostInFlightWhileOpen = max(mostInFlightWhileOpen, statistics.inFlight)
            guard let limit = statistics.concurrencyLimit else {
                openWithoutALimit += 1
                return
            }
            if limitAtOpening == nil { limitAtOpening = limit }
            highestLimitWhileOpen = max(highestLimitWhileOpen, limit)
            if case .admitted = admission, statistics.inFlight > limit { admittedBeyondTheLimitWhileOpen += 1 }
        }
        #expect(recorder.changes.contains { $0.to == .open })
        #expect(levee.statistics.counters.probes > 0)
        // The limit stays in force while open and never grows there.
        #expect(openWithoutALimit == 0)
        let opening = try #require(limitAtOpening)
        #expect(highestLimitWhileOpen <= opening)
        #expect(admittedBeyondTheLimitWhileOpen == 0)
        #expect(mostInFlightWhileOpen <= highestLimit)
        #expect(highestLimit < 100)
    }

    @Test func probesAndTheRampThatFillTheQueueEngageTheLimitWhileOpen() throws {
        let (levee, _) = try Levee.coreRecorded(successRate: 0.99)
        var driver = CoreDriver(levee)
        driver.run(seconds: 5, rate: 1_000, call: Self.boundedQueue(room: 40))
        // Down: everything fails fast, and the circuit opens.
        driver.run(seconds: 2, rate: 1_000, call: CoreDriver.constant(latency: coreMillisecond / 10, failureRate: 1))
        #expect(levee.state == .open)

        // Back with a tenth of its workers (200 calls per second) under a retry storm of 20,000
        // offered per second. Against the offered or the healthy rate, what probes and the recovery
        // ramp keep out (at most the 40 the queue holds) looks like no queue at all, and its 503s
        // like a dependency still failing; against the rate they are sent at, it is a full queue.
        let weak = Self.boundedQueue(workers: 2, room: 40)
        driver.run(seconds: 60, rate: 20_000, call: weak)
        let failuresBefore = levee.statistics.counters.failures
        let settled = driver.run(seconds: 10, rate: 20_000, call: weak)
        #expect(levee.state.kind == .throttled)
        // Serving what the workers can, with few refusals.
        #expect(Double(settled.admitted) / 10 >= 150)
        #expect(Double(levee.statistics.counters.failures - failuresBefore) <= 0.05 * Double(settled.admitted))
    }
}
