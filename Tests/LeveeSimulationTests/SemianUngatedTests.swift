import Levee
import Testing
@testable import LeveeSimulation

@Suite("Semian's first PID design with ungated pings")
struct SemianUngatedTests {
    let second = TestSupport.second
    let millisecond: Int64 = 1_000_000

    struct Tally { var pings = 0; var business = 0; var arrivals = 0 }

    /// `rate` evenly spaced arrivals per second over seconds `from ..< from + seconds`; each admitted
    /// call completes 1 ms later with `succeeds(second, indexInSecond)`.
    @discardableResult
    func drive(_ breaker: inout SemianUngatedPingBreaker, from: Int, seconds: Int, rate: Int,
               succeeds: (_ second: Int, _ index: Int) -> Bool) -> Tally {
        var tally = Tally()
        let spacing = second / Int64(rate)
        for s in from..<(from + seconds) {
            for i in 0..<rate {
                let t = Int64(s) * second + Int64(i) * spacing
                let pingsBefore = breaker.pingsSent
                tally.arrivals += 1
                guard breaker.admit(slot: 0, at: t) else { continue }
                if breaker.pingsSent > pingsBefore { tally.pings += 1 } else { tally.business += 1 }
                breaker.complete(slot: 0, succeeded: succeeds(s, i), at: t + millisecond)
            }
        }
        return tally
    }

    @Test("One tick: P = (e − ê) − (r − ping failure rate), velocity-form PID with kp 1, ki 0.1, kd 0.01")
    func oneTick() {
        var breaker = SemianUngatedPingBreaker(slotCapacity: 1)
        // Second 0: 101 arrivals; the first is the ping (succeeds), 20 of the other 100 fail.
        let tally = drive(&breaker, from: 0, seconds: 1, rate: 101) { _, index in index == 0 || index > 20 }
        #expect(tally.pings == 1)
        #expect(tally.business == 100)
        // The first event of second 1 runs tick 1: e = 0.2, ping failure rate 0, ê = 0.01 (fewer
        // than 5 observations), P = 0.19, I = 0.19, D = 0.01 · 0.19.
        _ = breaker.admit(slot: 0, at: second)
        #expect(breaker.ticks == 1)
        #expect(breaker.errorRate == 0.2)
        #expect(breaker.pingFailureRate == 0)
        #expect(breaker.idealErrorRate == 0.01)
        let p = 0.19
        #expect(abs(breaker.rejectionRate - (p + 0.1 * p + 0.01 * p)) < 1e-12)
        #expect(breaker.reportedState == .throttled)
    }

    /// Five minutes of 100 arrivals/s where the 51st arrival of every second fails (pings, the
    /// first arrivals, succeed): e = 1/99 in every window, so ê = 1/99 and the breaker is closed.
    func healthy() -> SemianUngatedPingBreaker {
        var breaker = SemianUngatedPingBreaker(slotCapacity: 1)
        let tally = drive(&breaker, from: 0, seconds: 300, rate: 100) { _, index in index != 50 }
        #expect(tally.pings == 300)
        #expect(abs(breaker.idealErrorRate - 1.0 / 99) < 1e-12)
        #expect(breaker.rejectionRate < 0.001)
        return breaker
    }

    @Test("In a full outage pings keep failing while business calls are rejected; the pings alone then hold it open")
    func outageKeepsPingSignal() {
        var breaker = healthy()
        // 30 s of 100 % failures. While r < 1 the business calls fail too: P ≈ 2 − ê − r > 0.
        let outage = drive(&breaker, from: 300, seconds: 30, rate: 100) { _, _ in false }
        #expect(outage.pings == 30)  // one per second, whatever r is
        #expect(breaker.pingFailureRate == 1)
        #expect(breaker.rejectionRate > 0.95)
        // Only pings from now on (one arrival a second, each a ping), still failing: with no
        // business completions e = 0, and P = −ê − (r − 1) keeps r at about 1 − ê.
        let pingsOnly = drive(&breaker, from: 330, seconds: 60, rate: 1) { _, _ in false }
        #expect(pingsOnly.pings == 60 && pingsOnly.business == 0)
        #expect(breaker.errorRate == 0)
        #expect(breaker.rejectionRate > 0.95)

        // Semian v0.28 has no ungated signal: on the same input its empty window reads e = 0 and
        // it releases the rejection within the window.
        var gated = SemianAdaptiveBreaker()
        for s in 0..<300 {
            for i in 0..<100 {
                let t = Int64(s) * second + Int64(i) * 10 * millisecond
                if gated.admit(slot: 0, at: t) { gated.complete(slot: 0, succeeded: i != 50, at: t + millisecond) }
            }
        }
        for s in 300..<330 {
            for i in 0..<100 {
                let t = Int64(s) * second + Int64(i) * 10 * millisecond
                if gated.admit(slot: 0, at: t) { gated.complete(slot: 0, succeeded: false, at: t + millisecond) }
            }
        }
        #expect(gated.rejectionRate > 0.95)
        for s in 330..<390 { _ = gated.admit(slot: 0, at: Int64(s) * second) }
        #expect(gated.rejectionRate == 0)
    }

    @Test("When the dependency recovers, succeeding pings alone bring the rejection down to 0")
    func recoveryThroughPings() {
        var breaker = healthy()
        drive(&breaker, from: 300, seconds: 30, rate: 100) { _, _ in false }
        #expect(breaker.rejectionRate > 0.95)
        let businessBefore = breaker.businessAdmitted
        // Recovery, seen only through one ping a second. As failing pings leave the 10 s window,
        // P = −ê − (r − pingFailureRate) turns negative. The integral wound up during the outage
        // (I ≈ 7.8 here) holds r at 1 for a few ticks; once the window holds only successes,
        // P = −ê − r, so r' = r + P + 0.1·I + D ≈ 0.1·I − ê, and I falls by ê + r every tick:
        // r descends to 0 with the integral, never rising on the way.
        var trace: [Double] = []
        for s in 330..<390 {
            drive(&breaker, from: s, seconds: 1, rate: 1) { _, _ in true }
            trace.append(breaker.rejectionRate)
        }
        #expect(breaker.businessAdmitted == businessBefore)
        #expect(breaker.pingFailureRate == 0)
        #expect(trace[0] == 1)
        #expect(zip(trace, trace.dropFirst()).allSatisfy { $0 >= $1 })
        #expect(trace[12] < 0.5)  // two ticks after the last failing ping left the window
        #expect(breaker.rejectionRate == 0)
        #expect(breaker.reportedState == .closed)
    }

    @Test("The ideal error rate is the nearest-rank p90 of the last 900 ticks")
    func slidingQuantile() {
        var quantile = SlidingQuantile(capacity: 5)
        for value in 1...10 { quantile.add(Double(value)) }
        #expect(quantile.count == 5)  // holds 6 … 10
        #expect(quantile.quantile(0.9) == 10)  // rank ceil(4.5) = 5
        #expect(quantile.quantile(0.5) == 8)  // rank ceil(2.5) = 3
        #expect(quantile.quantile(0.2) == 6)
        var repeated = SlidingQuantile(capacity: 3)
        for value in [0.5, 0.5, 0.1, 0.5, 0.2] { repeated.add(value) }  // holds 0.1, 0.5, 0.2
        #expect(repeated.quantile(0.9) == 0.5)
        #expect(repeated.quantile(0.34) == 0.2)
        let configuration = SemianUngatedPingBreaker.Configuration.takeOne
        #expect(configuration.idealErrorRateHistoryTicks == 900)
        #expect(configuration.idealErrorRateQuantile == 0.9)
        #expect(configuration.kp == 1.0 && configuration.ki == 0.1 && configuration.kd == 0.01)
    }
}
