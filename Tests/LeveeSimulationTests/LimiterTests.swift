import Levee
import Testing
@testable import LeveeSimulation

@Suite("Concurrency limiters: Netflix Gradient2, Vegas, AIMD; the static token-bucket limiter")
struct LimiterTests {
    let second = TestSupport.second
    let millisecond: Int64 = 1_000_000

    // MARK: Gradient2

    @Test("Gradient2 grows by s·queueSize = 0.8 per sample while the RTT is stable, up to its maximum")
    func gradient2Grows() {
        var limit = Gradient2Limit()
        #expect(limit.limit == 20)
        // gradient = clamp(1.5 · long/short, 0.5, 1) = 1 at a constant RTT, so
        // new = L + 4 and L ← 0.8·L + 0.2·(L + 4) = L + 0.8.
        for n in 1...100 {
            limit.onSample(at: 0, rtt: 50 * millisecond, inFlight: 1_000, dropped: false)
            #expect(abs(limit.estimatedLimit - (20 + 0.8 * Double(n))) < 1e-9)
        }
        #expect(limit.limit == 100)
        for _ in 0..<200 { limit.onSample(at: 0, rtt: 50 * millisecond, inFlight: 1_000, dropped: false) }
        #expect(limit.estimatedLimit == 200)
    }

    @Test("Gradient2 shrinks by the RTT ratio when the RTT rises, and not below 0.5 per update")
    func gradient2Shrinks() {
        var limit = Gradient2Limit()
        for _ in 0..<100 { limit.onSample(at: 0, rtt: 50 * millisecond, inFlight: 1_000, dropped: false) }
        #expect(abs(limit.estimatedLimit - 100) < 1e-9)
        #expect(abs(limit.longRtt.value - 50e6) < 1e-3)
        // A 150 ms sample: long = 50·(1 − f) + 150·f with f = 2/601; gradient = 1.5·long/150.
        let factor = 2.0 / 601
        let long = 50e6 * (1 - factor) + 150e6 * factor
        let gradient = 1.5 * long / 150e6
        limit.onSample(at: 0, rtt: 150 * millisecond, inFlight: 1_000, dropped: false)
        let expected = 100 * 0.8 + (100 * gradient + 4) * 0.2
        #expect(abs(limit.estimatedLimit - expected) < 1e-9)
        #expect(limit.limit == 90)  // 90.87…
        // A 10× RTT hits the 0.5 floor of the gradient: L ← 0.8·L + 0.2·(0.5·L + 4) = 0.9·L + 0.8.
        let before = limit.estimatedLimit
        limit.onSample(at: 0, rtt: 1_500 * millisecond, inFlight: 1_000, dropped: false)
        #expect(abs(limit.estimatedLimit - (0.9 * before + 0.8)) < 1e-9)
        // Sustained slowness drives it to the minimum, 20.
        for _ in 0..<100 { limit.onSample(at: 0, rtt: 1_500 * millisecond, inFlight: 1_000, dropped: false) }
        #expect(limit.estimatedLimit == 20)
    }

    @Test("Gradient2 holds while application-limited, and decays an inflated long RTT by 0.95")
    func gradient2AppLimitedAndDecay() {
        var limit = Gradient2Limit()
        for _ in 0..<10 { limit.onSample(at: 0, rtt: 50 * millisecond, inFlight: 1_000, dropped: false) }
        #expect(abs(limit.estimatedLimit - 28) < 1e-9)
        // inFlight 13 < 28 / 2: the RTT is recorded, the limit does not move.
        limit.onSample(at: 0, rtt: 50 * millisecond, inFlight: 13, dropped: false)
        #expect(abs(limit.estimatedLimit - 28) < 1e-9)
        // Warm-up over (11 samples): a 10 ms sample gives long = 50·(1 − f) + 10·f ≈ 49.7 ms,
        // five times the sample, so the long average is scaled by 0.95.
        let factor = 2.0 / 601
        let blended = 50e6 * (1 - factor) + 10e6 * factor
        limit.onSample(at: 0, rtt: 10 * millisecond, inFlight: 0, dropped: false)
        #expect(abs(limit.longRtt.value - 0.95 * blended) < 1e-3)
        // Drops are ordinary samples to Gradient2.
        var dropped = Gradient2Limit(), succeeded = Gradient2Limit()
        dropped.onSample(at: 0, rtt: 50 * millisecond, inFlight: 100, dropped: true)
        succeeded.onSample(at: 0, rtt: 50 * millisecond, inFlight: 100, dropped: false)
        #expect(dropped.estimatedLimit == succeeded.estimatedLimit)
    }

    // MARK: Vegas

    /// Vegas without probes (an enormous probe multiplier), its no-load RTT set to 100 ms.
    func vegas(initialLimit: Double = 20) -> VegasLimit {
        var configuration = VegasLimit.Configuration.netflix
        configuration.initialLimit = initialLimit
        configuration.probeMultiplier = 1e12
        var vegas = VegasLimit(configuration: configuration)
        vegas.onSample(at: 0, rtt: 100 * millisecond, inFlight: 1, dropped: false)
        #expect(vegas.rttNoLoad == 100 * millisecond)
        #expect(vegas.estimatedLimit == initialLimit)
        return vegas
    }

    @Test("Vegas: queue ≤ L adds beta = 6L, queue < alpha = 3L adds L, queue > beta removes L, in between holds")
    func vegasThresholds() {
        var vegas = vegas()
        // Limit 20, L = 1. RTT = no-load RTT: queue = 0 ≤ 1, so +6.
        vegas.onSample(at: 0, rtt: 100 * millisecond, inFlight: 20, dropped: false)
        #expect(vegas.lastQueueEstimate == 0)
        #expect(vegas.limit == 26)
        // 105 ms: queue = ceil(26 · (1 − 100/105)) = ceil(1.24) = 2 < 3, so +1.
        vegas.onSample(at: 0, rtt: 105 * millisecond, inFlight: 26, dropped: false)
        #expect(vegas.lastQueueEstimate == 2)
        #expect(vegas.limit == 27)
        // 115 ms: queue = ceil(27 · 0.1304) = ceil(3.52) = 4, between alpha 3 and beta 6: hold.
        vegas.onSample(at: 0, rtt: 115 * millisecond, inFlight: 27, dropped: false)
        #expect(vegas.lastQueueEstimate == 4)
        #expect(vegas.limit == 27)
        // 200 ms: queue = ceil(27 / 2) = 14 > 6, so −1.
        vegas.onSample(at: 0, rtt: 200 * millisecond, inFlight: 27, dropped: false)
        #expect(vegas.lastQueueEstimate == 14)
        #expect(vegas.limit == 26)
        // A drop removes L whatever the RTT and even when application-limited.
        vegas.onSample(at: 0, rtt: 100 * millisecond, inFlight: 1, dropped: true)
        #expect(vegas.limit == 25)
        // Application-limited (2 · 12 < 25): no change.
        vegas.onSample(at: 0, rtt: 100 * millisecond, inFlight: 12, dropped: false)
        #expect(vegas.limit == 25)
        // A faster sample only lowers the no-load RTT.
        vegas.onSample(at: 0, rtt: 80 * millisecond, inFlight: 25, dropped: true)
        #expect(vegas.rttNoLoad == 80 * millisecond)
        #expect(vegas.limit == 25)
    }

    @Test("Vegas steps scale with floor(log10(limit)): at 150, L = 2, beta = 12; at 1,000, L = 3")
    func vegasLogSteps() {
        #expect(netflixLog10(5) == 1)
        #expect(netflixLog10(99.9) == 1)
        #expect(netflixLog10(100) == 2)
        #expect(netflixLog10(999.9) == 2)
        #expect(netflixLog10(1_000) == 3)
        var vegas = vegas(initialLimit: 150)
        vegas.onSample(at: 0, rtt: 100 * millisecond, inFlight: 150, dropped: false)
        #expect(vegas.limit == 162)
        vegas.onSample(at: 0, rtt: 100 * millisecond, inFlight: 150, dropped: true)
        #expect(vegas.limit == 160)
        // The maximum, 1,000, caps the increase.
        var high = self.vegas(initialLimit: 995)
        high.onSample(at: 0, rtt: 100 * millisecond, inFlight: 995, dropped: false)
        #expect(high.limit == 1_000)
    }

    @Test("Vegas re-probes the no-load RTT after ceil(jitter · 30 · limit) samples, jitter in [0.5, 1)")
    func vegasProbe() {
        var vegas = VegasLimit()
        let jitter = vegas.probeJitter
        #expect(jitter >= 0.5 && jitter < 1)
        let due = Int((jitter * 30 * 20).rounded(.up))
        vegas.onSample(at: 0, rtt: 100 * millisecond, inFlight: 1, dropped: false)
        var samples = 1
        // Slower samples, application-limited so the limit stays 20.
        while vegas.rttNoLoad == 100 * millisecond, samples < 1_000 {
            vegas.onSample(at: 0, rtt: 120 * millisecond, inFlight: 1, dropped: false)
            samples += 1
        }
        #expect(samples == due)
        #expect(vegas.rttNoLoad == 120 * millisecond)
        #expect(vegas.probeCount == 0)
        #expect(vegas.limit == 20)
    }

    // MARK: AIMD

    @Test("AIMD: a drop or an RTT over 5 s multiplies by 0.9 (floored, at least 20); a busy success adds 1")
    func aimd() {
        var configuration = AIMDLimit.Configuration.netflix
        configuration.initialLimit = 100
        var aimd = AIMDLimit(configuration: configuration)
        aimd.onSample(at: 0, rtt: millisecond, inFlight: 1, dropped: true)
        #expect(aimd.limit == 90)
        aimd.onSample(at: 0, rtt: 5 * second + 1, inFlight: 90, dropped: false)
        #expect(aimd.limit == 81)
        aimd.onSample(at: 0, rtt: 5 * second, inFlight: 41, dropped: false)  // 2 · 41 ≥ 81
        #expect(aimd.limit == 82)
        aimd.onSample(at: 0, rtt: millisecond, inFlight: 40, dropped: false)  // 80 < 82: idle
        #expect(aimd.limit == 82)
        for _ in 0..<30 { aimd.onSample(at: 0, rtt: millisecond, inFlight: 1, dropped: true) }
        #expect(aimd.limit == 20)
        for _ in 0..<300 { aimd.onSample(at: 0, rtt: millisecond, inFlight: 1_000, dropped: false) }
        #expect(aimd.limit == 200)
    }

    // MARK: The limiter

    /// A fixed limit that records every sample.
    struct RecordingLimit: LimitAlgorithm {
        var limit: Int
        var samples: [(start: Int64, rtt: Int64, inFlight: Int, dropped: Bool)] = []
        mutating func onSample(at startInstant: Int64, rtt: Int64, inFlight: Int, dropped: Bool) {
            samples.append((startInstant, rtt, inFlight, dropped))
        }
    }

    @Test("The limiter admits while in flight < limit, releases on completion and reports RTT and in-flight")
    func limiterEnforcesAndSamples() {
        var limiter = ConcurrencyLimitCandidate(algorithm: RecordingLimit(limit: 3), slotCapacity: 8)
        #expect(limiter.reportedState == .closed)
        for slot in 0..<3 { let admitted = limiter.admit(slot: slot, at: Int64(slot) * millisecond); #expect(admitted) }
        #expect(limiter.inFlight == 3)
        do { let admitted = limiter.admit(slot: 3, at: 3 * millisecond); #expect(!admitted) }
        #expect(limiter.reportedState == .throttled)
        limiter.complete(slot: 1, succeeded: true, at: 10 * millisecond)
        limiter.complete(slot: 0, succeeded: false, at: 12 * millisecond)
        #expect(limiter.inFlight == 1)
        #expect(limiter.algorithm.samples.count == 2)
        #expect(limiter.algorithm.samples[0].rtt == 9 * millisecond)
        #expect(limiter.algorithm.samples[0].inFlight == 2)
        #expect(!limiter.algorithm.samples[0].dropped)
        #expect(limiter.algorithm.samples[1].rtt == 12 * millisecond)
        #expect(limiter.algorithm.samples[1].inFlight == 1)
        #expect(limiter.algorithm.samples[1].dropped)
        do { let admitted = limiter.admit(slot: 3, at: 13 * millisecond); #expect(admitted) }
        // The throttled state is held for 1 s after the latest rejection.
        #expect(limiter.reportedState == .throttled)
        limiter.complete(slot: 3, succeeded: true, at: 3 * millisecond + second)
        #expect(limiter.reportedState == .closed)
        #expect(limiter.rejected == 1)
        #expect(limiter.protocolErrors == 0)
        // Completing a slot twice, or a free slot, is a protocol error.
        limiter.complete(slot: 3, succeeded: true, at: 2 * second)
        #expect(limiter.protocolErrors == 1)
    }

    @Test("Ignored failures release the permit without a sample")
    func limiterIgnoresFailures() {
        var limiter = ConcurrencyLimitCandidate(algorithm: RecordingLimit(limit: 1), failureReport: .ignored, slotCapacity: 2)
        do { let admitted = limiter.admit(slot: 0, at: 0); #expect(admitted) }
        do { let admitted = limiter.admit(slot: 1, at: 1); #expect(!admitted) }
        limiter.complete(slot: 0, succeeded: false, at: 5)
        #expect(limiter.algorithm.samples.isEmpty)
        do { let admitted = limiter.admit(slot: 1, at: 6); #expect(admitted) }
    }

    @Test("Vegas behind the limiter: a stable dependency raises the limit by beta whenever the limiter is busy")
    func vegasClosesTheLoop() {
        var limiter = ConcurrencyLimitCandidate(algorithm: VegasLimit(), slotCapacity: 64)
        // Batches of 64 arrivals at one instant, each admitted call taking exactly 100 ms. Every
        // completion sees the no-load RTT (queue 0, so +beta = 6) unless application-limited
        // (2 · in-flight-at-start < limit). Batch 1: limit 20; the first sample only sets the
        // no-load RTT; updates at in-flight 10, 13, 16, 19 → 44. Batch 2: 44 admitted; updates
        // at 22, 25, …, 43 → 92. Batch 3: all 64 admitted; updates at 46 → 98 and 49 → 104, then
        // L = floor(log10(104)) = 2 makes beta 12: 52 → 116, 58 → 128, 64 → 140.
        var time: Int64 = 0
        var admittedPerBatch: [Int] = []
        for _ in 0..<3 {
            var admitted: [Int] = []
            for slot in 0..<64 where limiter.admit(slot: slot, at: time) { admitted.append(slot) }
            admittedPerBatch.append(admitted.count)
            time += 100 * millisecond
            for slot in admitted { limiter.complete(slot: slot, succeeded: true, at: time) }
        }
        #expect(admittedPerBatch == [20, 44, 64])
        #expect(limiter.limit == 140)
        #expect(limiter.rejected == 44 + 20)
        #expect(limiter.inFlight == 0)
    }

    // MARK: Static limiter

    @Test("Token bucket: the burst is admitted at once, then exactly the rate")
    func tokenBucket() {
        let configuration = StaticLimiter.Configuration(tokensPerSecond: 100, burstTokens: 10, maxInFlight: 1_000)
        var limiter = StaticLimiter(configuration: configuration, slotCapacity: 1)
        var admitted = 0
        for _ in 0..<15 where limiter.admit(slot: 0, at: 0) {
            admitted += 1
            limiter.complete(slot: 0, succeeded: true, at: 0)
        }
        #expect(admitted == 10)
        #expect(limiter.reportedState == .throttled)
        // One arrival per millisecond for a second: one token every 10 ms, 100 in all.
        admitted = 0
        for ms in 1...1_000 where limiter.admit(slot: 0, at: Int64(ms) * millisecond) {
            admitted += 1
            limiter.complete(slot: 0, succeeded: true, at: Int64(ms) * millisecond)
        }
        #expect(admitted == 100)
        // After a long pause the bucket holds the burst, no more.
        do { let admitted = limiter.admit(slot: 0, at: 60 * second); #expect(admitted) }
        limiter.complete(slot: 0, succeeded: true, at: 60 * second)
        #expect(limiter.tokens == 9)
        #expect(limiter.reportedState == .closed)
    }

    @Test("Max in-flight: rejects at the bound until a call completes")
    func maxInFlight() {
        let configuration = StaticLimiter.Configuration(tokensPerSecond: 1_000_000, burstTokens: 1_000, maxInFlight: 3)
        var limiter = StaticLimiter(configuration: configuration, slotCapacity: 8)
        for slot in 0..<3 { do { let admitted = limiter.admit(slot: slot, at: 0); #expect(admitted) } }
        do { let admitted = limiter.admit(slot: 3, at: 1); #expect(!admitted) }
        limiter.complete(slot: 1, succeeded: false, at: 2)
        do { let admitted = limiter.admit(slot: 3, at: 3); #expect(admitted) }
        #expect(limiter.inFlight == 3)
        #expect(limiter.rejected == 1)
    }

    @Test("The reference backend's limiter: 0.85 × 8 × 150 rps, 1 s burst, the mesh in-flight formula at 67.65 ms")
    func referenceSizing() {
        #expect(StaticLimiter.Configuration.meshMaxInFlight(expectedConcurrency: 4) == 10)  // 4 + 3·2
        #expect(StaticLimiter.Configuration.meshMaxInFlight(expectedConcurrency: 36) == 54)  // both terms equal
        #expect(StaticLimiter.Configuration.meshMaxInFlight(expectedConcurrency: 0.01) == 2)
        let reference = StaticLimiter.Configuration.referenceBackend
        #expect(reference.tokensPerSecond == 1_020)
        #expect(reference.burstTokens == 1_020)
        #expect(reference.maxInFlight == 122)  // ceil(1.5 × 81.18)
    }

    @Test("Registered under their identifiers")
    func registered() {
        for name in ["gradient2", "vegas", "aimd", "static-limiter", "semian-adaptive-ungated"] {
            #expect(CandidateDescriptor.named(name) != nil, "\(name) is not registered")
        }
    }
}
