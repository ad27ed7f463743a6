import Levee
import Testing
@testable import LeveeSimulation

@Suite("Semian classic breaker: mechanics")
struct SemianClassicBreakerTests {
    let second = TestSupport.second
    let millisecond: Int64 = 1_000_000

    /// Admits a call in `slot` at `start` and completes it at `end`.
    func call(_ breaker: inout SemianClassicBreaker, slot: Int = 0, at start: Int64, end: Int64? = nil, succeeded: Bool) -> Bool {
        let admitted = breaker.admit(slot: slot, at: start)
        if admitted { breaker.complete(slot: slot, succeeded: succeeded, at: end ?? start + millisecond) }
        return admitted
    }

    /// A Shopify-configured breaker tripped by three errors, the last completing at `time`.
    func tripped(at time: Int64) -> SemianClassicBreaker {
        var breaker = SemianClassicBreaker(configuration: .shopify, slotCapacity: 2_000)
        for offset in 0..<3 { _ = call(&breaker, at: time - Int64(3 - offset) * millisecond, succeeded: false) }
        #expect(breaker.internalState == .open)
        return breaker
    }

    @Test("Shopify's configuration and the derived one")
    func configurations() {
        let shopify = SemianClassicBreaker.Configuration.shopify
        #expect(shopify.errorThreshold == 3)
        #expect(shopify.errorTimeoutNanoseconds == 2 * second)
        #expect(shopify.errorThresholdTimeoutNanoseconds == 2 * second)  // defaults to error_timeout
        #expect(shopify.successThreshold == 2)
        #expect(shopify.halfOpenResourceTimeoutNanoseconds == 250 * millisecond)
        #expect(shopify.lumpingIntervalNanoseconds == 0)
        let derived = SemianClassicBreaker.Configuration.derived
        #expect(derived.errorThreshold == 300)
        #expect(derived.errorThresholdTimeoutNanoseconds == second)
        #expect(derived.errorTimeoutNanoseconds == 30 * second)
        #expect(CandidateDescriptor.semianClassic.identifier == "semian-classic")
        #expect(CandidateDescriptor.semianClassicDerived.identifier == "semian-classic-derived")
        #expect(CandidateDescriptor.semianAdaptive.identifier == "semian-adaptive")
    }

    @Test("Opens on error_threshold errors within error_threshold_timeout, not when they are spread out")
    func opens() {
        var breaker = SemianClassicBreaker(configuration: .shopify, slotCapacity: 4)
        _ = call(&breaker, at: 0, end: 0, succeeded: false)
        _ = call(&breaker, at: 1_500 * millisecond, end: 1_500 * millisecond, succeeded: false)
        // Successes in between change nothing.
        for index in 0..<10 { _ = call(&breaker, at: 1_600 * millisecond + Int64(index), succeeded: true) }
        // The third error is 3 s after the first: only two lie within the 2 s window.
        _ = call(&breaker, at: 3 * second, end: 3 * second, succeeded: false)
        #expect(breaker.internalState == .closed)
        #expect(breaker.recordedErrors(at: 3 * second) == 2)
        // A fourth error 0.5 s later makes three within 2 s (1.5 s, 3 s, 3.5 s).
        _ = call(&breaker, at: 3_500 * millisecond, end: 3_500 * millisecond, succeeded: false)
        #expect(breaker.internalState == .open)
        #expect(breaker.reportedState == .open)
        let admitted = breaker.admit(slot: 0, at: 4 * second)
        #expect(!admitted)
    }

    @Test("Errors within lumping_interval of the last recorded one count once")
    func lumping() {
        let configuration = SemianClassicBreaker.Configuration(
            errorThreshold: 3, errorTimeoutNanoseconds: 10 * second, successThreshold: 2,
            halfOpenResourceTimeoutNanoseconds: nil, lumpingIntervalNanoseconds: second)
        var breaker = SemianClassicBreaker(configuration: configuration, slotCapacity: 4)
        for index in 0..<20 { _ = call(&breaker, at: Int64(index) * 40 * millisecond, succeeded: false) }
        #expect(breaker.internalState == .closed)
        #expect(breaker.recordedErrors(at: second) == 1)
        _ = call(&breaker, at: 1_100 * millisecond, succeeded: false)
        #expect(breaker.internalState == .closed)
        _ = call(&breaker, at: 2_200 * millisecond, succeeded: false)
        #expect(breaker.internalState == .open)
    }

    @Test("Half-open admits every caller: the stampede")
    func stampede() {
        var breaker = tripped(at: 10 * second)
        // Open for error_timeout after the latest error.
        var admitted = breaker.admit(slot: 0, at: 12 * second - 2)
        #expect(!admitted)
        let start = 12 * second
        for slot in 0..<1_000 {
            admitted = breaker.admit(slot: slot, at: start + Int64(slot))
            #expect(admitted)
        }
        #expect(breaker.internalState == .halfOpen)
        #expect(breaker.reportedState == .open)
    }

    @Test("success_threshold consecutive half-open successes close it; a success slower than half_open_resource_timeout is an error")
    func closes() {
        var breaker = tripped(at: 10 * second)
        var now = 12 * second
        var admitted = call(&breaker, at: now, succeeded: true)
        #expect(admitted)
        #expect(breaker.internalState == .halfOpen)
        // A "success" that took 300 ms (> 250 ms) counts as an error and re-opens.
        now += 10 * millisecond
        admitted = call(&breaker, at: now, end: now + 300 * millisecond, succeeded: true)
        #expect(admitted)
        #expect(breaker.internalState == .open)
        #expect(breaker.lastErrorAt == now + 300 * millisecond)
        // Open again for 2 s from that error; then two fast successes close it.
        now += 2 * second + 300 * millisecond
        admitted = call(&breaker, at: now, succeeded: true)
        #expect(admitted)
        #expect(breaker.internalState == .halfOpen)
        admitted = call(&breaker, at: now + 10 * millisecond, end: now + 200 * millisecond, succeeded: true)
        #expect(admitted)
        #expect(breaker.internalState == .closed)
        #expect(breaker.reportedState == .closed)
        #expect(breaker.recordedErrors(at: now + 200 * millisecond) == 0)
    }

    @Test("Any error while half-open re-opens it, and the open period restarts from that error")
    func reopens() {
        var breaker = tripped(at: 10 * second)
        let now = 12 * second
        var admitted = call(&breaker, at: now, succeeded: true)
        #expect(admitted)
        admitted = call(&breaker, at: now + 5 * millisecond, succeeded: false)
        #expect(admitted)
        #expect(breaker.internalState == .open)
        admitted = breaker.admit(slot: 0, at: now + 2 * second)
        #expect(!admitted)
        admitted = breaker.admit(slot: 0, at: now + 2 * second + 6 * millisecond)
        #expect(admitted)
        #expect(breaker.internalState == .halfOpen)
    }

    @Test("Time going backwards is a protocol error")
    func protocolError() {
        var breaker = SemianClassicBreaker(configuration: .shopify, slotCapacity: 1)
        _ = breaker.admit(slot: 0, at: 10)
        _ = breaker.admit(slot: 0, at: 5)
        #expect(breaker.protocolErrors == 1)
    }
}

@Suite("Semian adaptive (PID) breaker")
struct SemianAdaptiveBreakerTests {
    let second = TestSupport.second

    /// What one stretch of traffic did.
    struct Stretch {
        var arrivals = 0
        var rejected = 0
        var maximumRejection = 0.0
        var states: Set<LeveeState.Kind> = []
        var rejectedFraction: Double { Double(rejected) / Double(max(arrivals, 1)) }
    }

    /// Drives `seconds` seconds of traffic from second `from` at 100 arrivals per second. Admitted
    /// calls complete 1 ms later; exactly `errorsPer1000` of every 1,000 consecutive admitted calls
    /// fail (evenly spread). `admittedSoFar` carries the pattern across stretches.
    @discardableResult
    func drive(
        _ breaker: inout SemianAdaptiveBreaker, from: Int64, seconds: Int64, errorsPer1000: Int,
        admittedSoFar: inout Int
    ) -> Stretch {
        var stretch = Stretch()
        for s in from..<(from + seconds) {
            for index in 0..<100 {
                let instant = s * second + Int64(index) * 10_000_000
                stretch.arrivals += 1
                if breaker.admit(slot: 0, at: instant) {
                    let n = admittedSoFar
                    admittedSoFar += 1
                    let fails = (n + 1) * errorsPer1000 / 1_000 > n * errorsPer1000 / 1_000
                    breaker.complete(slot: 0, succeeded: !fails, at: instant + 1_000_000)
                } else {
                    stretch.rejected += 1
                }
                stretch.maximumRejection = max(stretch.maximumRejection, breaker.rejectionRate)
                stretch.states.insert(breaker.reportedState)
            }
        }
        return stretch
    }

    /// A breaker that has learned a baseline of `errorsPer1000` ‰ over 600 s.
    func learned(errorsPer1000: Int, admitted: inout Int) -> SemianAdaptiveBreaker {
        var breaker = SemianAdaptiveBreaker()
        drive(&breaker, from: 0, seconds: 600, errorsPer1000: errorsPer1000, admittedSoFar: &admitted)
        return breaker
    }

    @Test("Defaults are v0.28's")
    func defaults() {
        let configuration = SemianAdaptiveBreaker.Configuration.semian
        #expect(configuration.kp == 1.0 && configuration.ki == 0.2 && configuration.kd == 0.0)
        #expect(configuration.windowSeconds == 10)
        #expect(configuration.initialErrorRate == 0.05 && configuration.idealErrorRateCap == 0.10)
        #expect(configuration.deadZoneRatio == 0.25)
        #expect(configuration.lowConfidenceAlphaUp == 0.0017 && configuration.lowConfidenceAlphaDown == 0.078)
        #expect(configuration.alphaUp == 0.0009 && configuration.alphaDown == 0.039)
        #expect(configuration.integralUpperCap == 10 && configuration.integralLowerCap == -10)
        let breaker = SemianAdaptiveBreaker()
        #expect(breaker.idealErrorRate == 0.05)
        #expect(breaker.reportedState == .closed)
    }

    @Test("No rejection at the learned 0.4 % baseline")
    func baseline() {
        var admitted = 0
        var breaker = learned(errorsPer1000: 4, admitted: &admitted)
        #expect(abs(breaker.idealErrorRate - 0.004) < 0.0005)
        let stretch = drive(&breaker, from: 600, seconds: 300, errorsPer1000: 4, admittedSoFar: &admitted)
        #expect(stretch.rejected == 0)
        #expect(stretch.maximumRejection == 0)
        #expect(stretch.states == [.closed])
        #expect(breaker.ticks == 899)
    }

    @Test("At a sustained 20 % error rate, rejection settles at Δ/(1 − Δ) ≈ 0.24 (±0.01)")
    func equilibrium() {
        var admitted = 0
        var breaker = learned(errorsPer1000: 4, admitted: &admitted)
        drive(&breaker, from: 600, seconds: 240, errorsPer1000: 200, admittedSoFar: &admitted)
        // 20 % is above the 10 % cap: the baseline does not move.
        #expect(abs(breaker.idealErrorRate - 0.004) < 0.0005)
        let stretch = drive(&breaker, from: 840, seconds: 120, errorsPer1000: 200, admittedSoFar: &admitted)
        let delta = 0.2 - breaker.idealErrorRate
        let expected = delta / (1 - delta)
        #expect(abs(expected - 0.2438) < 0.001)
        #expect(abs(breaker.rejectionRate - expected) < 0.01)
        #expect(abs(breaker.errorRate - 0.2) < 0.005)
        #expect(abs(stretch.rejectedFraction - expected) < 0.03)
        #expect(stretch.states == [.throttled])
    }

    @Test("The dead zone: up to 25 % above the learned baseline sheds nothing; beyond it sheds")
    func deadZone() {
        var admitted = 0
        var inside = learned(errorsPer1000: 40, admitted: &admitted)
        var outside = inside
        var admittedOutside = admitted
        #expect(abs(inside.idealErrorRate - 0.04) < 0.001)
        // 4.8 % is 20 % above 4 %: inside the dead zone.
        let quiet = drive(&inside, from: 600, seconds: 120, errorsPer1000: 48, admittedSoFar: &admitted)
        #expect(quiet.rejected == 0)
        #expect(quiet.maximumRejection == 0)
        // 6 % is 50 % above: the breaker throttles.
        let shedding = drive(&outside, from: 600, seconds: 120, errorsPer1000: 60, admittedSoFar: &admittedOutside)
        #expect(shedding.maximumRejection > 0.01)
        #expect(shedding.states.contains(.throttled))
    }

    @Test("Recovery: when errors stop, rejection returns to 0")
    func recovery() {
        var admitted = 0
        var breaker = learned(errorsPer1000: 4, admitted: &admitted)
        drive(&breaker, from: 600, seconds: 120, errorsPer1000: 200, admittedSoFar: &admitted)
        #expect(breaker.rejectionRate > 0.2)
        drive(&breaker, from: 720, seconds: 30, errorsPer1000: 0, admittedSoFar: &admitted)
        #expect(breaker.rejectionRate == 0)
        #expect(breaker.reportedState == .closed)
    }

    @Test("A total outage opens it (r = 1); the emptied window lets traffic back without probes")
    func outage() {
        var admitted = 0
        var breaker = learned(errorsPer1000: 4, admitted: &admitted)
        let outage = drive(&breaker, from: 600, seconds: 60, errorsPer1000: 1_000, admittedSoFar: &admitted)
        #expect(outage.states.contains(.open))
        #expect(outage.maximumRejection == 1)
        let healed = drive(&breaker, from: 660, seconds: 60, errorsPer1000: 0, admittedSoFar: &admitted)
        #expect(healed.rejected < healed.arrivals)
        #expect(breaker.reportedState == .closed)
    }

    @Test("Ticks are lazy and catch up after silence; time going backwards is a protocol error")
    func lazyTicks() {
        var breaker = SemianAdaptiveBreaker()
        _ = breaker.admit(slot: 0, at: 500_000_000)
        #expect(breaker.ticks == 0)
        _ = breaker.admit(slot: 0, at: 1_000_000_000)
        #expect(breaker.ticks == 1)
        _ = breaker.admit(slot: 0, at: 30 * second + 1)
        #expect(breaker.ticks == 30)
        _ = breaker.admit(slot: 0, at: 29 * second)
        #expect(breaker.protocolErrors == 1)
    }
}
