import Levee
import Testing
@testable import LeveeSimulation

@Suite("resilience4j-style sliding-window breaker")
struct SlidingWindowBreakerTests {
    let second = TestSupport.second

    /// Admits and completes one call per outcome at `time` (1 ms long).
    func feed(_ breaker: inout SlidingWindowBreaker, _ outcomes: [Bool], at time: Int64) {
        for (index, outcome) in outcomes.enumerated() {
            let t = time + Int64(index)
            if breaker.admit(slot: 0, at: t) { breaker.complete(slot: 0, succeeded: outcome, at: t + 1_000_000) }
        }
    }

    func tripped(at time: Int64) -> SlidingWindowBreaker {
        var breaker = SlidingWindowBreaker(slotCapacity: 16)
        feed(&breaker, Array(repeating: false, count: 100), at: time)
        #expect(breaker.internalState == .open)
        return breaker
    }

    @Test("The defaults are resilience4j's")
    func defaults() {
        let c = SlidingWindowBreaker.Configuration.standard
        #expect(c.failureRateThreshold == 0.5 && c.slowCallRateThreshold == 1.0)
        #expect(c.slowCallDurationNanoseconds == 60 * second && c.minimumNumberOfCalls == 100)
        #expect(c.windowSeconds == 60 && c.waitDurationInOpenNanoseconds == 60 * second)
        #expect(c.permittedCallsInHalfOpen == 10)
    }

    @Test("Opens only once the minimum number of calls is reached")
    func minimumCalls() {
        var breaker = SlidingWindowBreaker(slotCapacity: 1)
        feed(&breaker, Array(repeating: false, count: 99), at: 0)
        #expect(breaker.reportedState == .closed)
        feed(&breaker, [false], at: second / 2)
        #expect(breaker.reportedState == .open)
        let admitted = breaker.admit(slot: 0, at: second); #expect(!admitted)
    }

    @Test("Opens at the failure-rate threshold (≥ 50 %), not below")
    func failureRate() {
        var breaker = SlidingWindowBreaker(slotCapacity: 1)
        feed(&breaker, Array(repeating: true, count: 51) + Array(repeating: false, count: 50), at: 0)
        #expect(breaker.windowCounts.calls == 101 && breaker.windowCounts.failures == 50)
        #expect(breaker.reportedState == .closed)  // 49.5 %
        feed(&breaker, [false], at: second)
        #expect(breaker.reportedState == .open)  // 51/102 = 50 %
    }

    @Test("The window is 60 s: older calls no longer count")
    func windowExpiry() {
        var breaker = SlidingWindowBreaker(slotCapacity: 1)
        feed(&breaker, Array(repeating: false, count: 60), at: 0)
        feed(&breaker, Array(repeating: false, count: 40), at: 61 * second)
        #expect(breaker.windowCounts.calls == 40)
        #expect(breaker.reportedState == .closed)
    }

    @Test("Slow successful calls open it at the slow-call-rate threshold")
    func slowCalls() {
        var breaker = SlidingWindowBreaker(slotCapacity: 100)
        for slot in 0..<100 { let admitted = breaker.admit(slot: slot, at: Int64(slot)); #expect(admitted) }
        for slot in 0..<99 { breaker.complete(slot: slot, succeeded: true, at: 61 * second) }
        #expect(breaker.reportedState == .closed)
        breaker.complete(slot: 99, succeeded: true, at: 61 * second)
        #expect(breaker.windowCounts.slow == 100)
        #expect(breaker.reportedState == .open)
    }

    @Test("Half-open: 10 probes after 60 s, judged as a batch; closes below the threshold")
    func halfOpenCloses() {
        var breaker = tripped(at: 0)
        let opened = breaker.openedAt
        let admitted = breaker.admit(slot: 0, at: opened + 60 * second - 1); #expect(!admitted)
        for slot in 0..<10 { let probe = breaker.admit(slot: slot, at: opened + 60 * second + Int64(slot)); #expect(probe) }
        #expect(breaker.internalState == .halfOpen)
        #expect(breaker.reportedState == .open)
        let eleventh = breaker.admit(slot: 10, at: opened + 61 * second); #expect(!eleventh)
        let t = opened + 62 * second
        for slot in 0..<4 { breaker.complete(slot: slot, succeeded: false, at: t) }
        for slot in 4..<9 { breaker.complete(slot: slot, succeeded: true, at: t) }
        #expect(breaker.internalState == .halfOpen)  // 9 of 10: no verdict yet
        breaker.complete(slot: 9, succeeded: true, at: t)
        #expect(breaker.internalState == .closed)
        #expect(breaker.windowCounts.calls == 0)
    }

    @Test("Half-open: 50 % probe failures re-open; stale completions are ignored")
    func halfOpenReopens() {
        var breaker = tripped(at: 0)
        let stale = breaker.admit(slot: 15, at: 1_000)  // open: rejected; slot 15 stays unused
        #expect(!stale)
        let start = breaker.openedAt + 60 * second
        for slot in 0..<10 { let admitted = breaker.admit(slot: slot, at: start); #expect(admitted) }
        breaker.complete(slot: 15, succeeded: true, at: start + 1)  // not a probe of this episode
        #expect(breaker.probesCompleted == 0)
        for slot in 0..<5 { breaker.complete(slot: slot, succeeded: false, at: start + 2) }
        for slot in 5..<10 { breaker.complete(slot: slot, succeeded: true, at: start + 2) }
        #expect(breaker.internalState == .open)
        #expect(breaker.openedAt == start + 2)
    }
}
