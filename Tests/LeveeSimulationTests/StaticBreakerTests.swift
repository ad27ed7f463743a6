import Levee
import Testing
@testable import LeveeSimulation

@Suite("Static breakers: mechanics and the original's quirks")
struct StaticBreakerTests {
    let second = TestSupport.second

    /// Trips a breaker with `failureThreshold` failures ending at `time`.
    func tripped(_ configuration: StaticBreaker.Configuration, at time: Int64) -> StaticBreaker {
        var admitted = false
        var breaker = StaticBreaker(configuration: configuration)
        for index in 0..<configuration.failureThreshold {
            admitted = breaker.admit(slot: index, at: time - 1_000)
            #expect(admitted)
        }
        for index in 0..<configuration.failureThreshold {
            breaker.complete(slot: index, succeeded: false, at: time)
        }
        #expect(breaker.internalState == .open)
        return breaker
    }

    @Test("The configurations are the original's")
    func configurations() {
        #expect(StaticBreaker.Configuration.bau == .init(failureThreshold: 5, successThreshold: 3, halfOpenTimeoutNanoseconds: 10 * second, halfOpenMaxCalls: 1))
        #expect(StaticBreaker.Configuration.peak == .init(failureThreshold: 7, successThreshold: 5, halfOpenTimeoutNanoseconds: 30 * second, halfOpenMaxCalls: 3))
    }

    @Test("Opens on the Nth consecutive failure; a success in between resets the count")
    func trips() {
        var breaker = StaticBreaker(configuration: .bau)
        for _ in 0..<4 { breaker.complete(slot: 0, succeeded: false, at: 1) }
        breaker.complete(slot: 0, succeeded: true, at: 2)
        for _ in 0..<4 { breaker.complete(slot: 0, succeeded: false, at: 3) }
        #expect(breaker.reportedState == .closed)
        breaker.complete(slot: 0, succeeded: false, at: 4)
        #expect(breaker.reportedState == .open)
        #expect(breaker.openedAt == 4)
        #expect(breaker.consecutiveFailures == 0)
    }

    @Test("Open rejects until the timeout; the first arrival after it is a probe, and half-open reports OPEN")
    func halfOpen() {
        var admitted = false
        var breaker = tripped(.bau, at: 100 * second)
        admitted = breaker.admit(slot: 0, at: 110 * second - 1)
        #expect(!admitted)
        #expect(breaker.internalState == .open)
        admitted = breaker.admit(slot: 0, at: 110 * second)
        #expect(admitted)
        #expect(breaker.internalState == .halfOpen)
        #expect(breaker.reportedState == .open)
        #expect(breaker.halfOpenCalls == 1)
        // One probe at a time for BAU.
        admitted = breaker.admit(slot: 1, at: 110 * second + 1)
        #expect(!admitted)
        #expect(breaker.halfOpenCalls == 1)
    }

    @Test("Consecutive successes while half-open close it; a failure re-opens it from that instant")
    func recovery() {
        var admitted = false
        var breaker = tripped(.bau, at: 0)
        var now = 10 * second
        for _ in 0..<2 {
            admitted = breaker.admit(slot: 0, at: now)
            #expect(admitted)
            breaker.complete(slot: 0, succeeded: true, at: now + 1)
            now += 2
        }
        #expect(breaker.internalState == .halfOpen)
        admitted = breaker.admit(slot: 0, at: now)
        #expect(admitted)
        breaker.complete(slot: 0, succeeded: true, at: now + 1)
        #expect(breaker.internalState == .closed)
        #expect(breaker.consecutiveSuccesses == 0)

        var failing = tripped(.peak, at: 0)
        admitted = failing.admit(slot: 0, at: 30 * second)
        #expect(admitted)
        failing.complete(slot: 0, succeeded: false, at: 31 * second)
        #expect(failing.internalState == .open)
        #expect(failing.openedAt == 31 * second)
        admitted = failing.admit(slot: 0, at: 60 * second)
        #expect(!admitted)
        admitted = failing.admit(slot: 0, at: 61 * second)
        #expect(admitted)
    }

    @Test("Completions while open move the counters but not the state")
    func completionsWhileOpen() {
        var admitted = false
        var breaker = tripped(.bau, at: 0)
        for _ in 0..<5 { breaker.complete(slot: 0, succeeded: true, at: 1) }
        #expect(breaker.internalState == .open)
        #expect(breaker.consecutiveSuccesses == 5)
        for _ in 0..<7 { breaker.complete(slot: 0, succeeded: false, at: 2) }
        #expect(breaker.internalState == .open)
        #expect(breaker.consecutiveFailures == 7)
        #expect(breaker.openedAt == 0)
        // Moving to half-open resets the successes but not the failures.
        admitted = breaker.admit(slot: 0, at: 10 * second)
        #expect(admitted)
        #expect(breaker.consecutiveSuccesses == 0)
        #expect(breaker.consecutiveFailures == 7)
    }

    @Test("Completions of calls admitted before the trip drive the probe counter negative and admit extra probes")
    func negativeProbeCounter() {
        var admitted = false
        var breaker = StaticBreaker(configuration: .bau)
        // Two long calls admitted while closed, then five failures trip the breaker.
        admitted = breaker.admit(slot: 10, at: 0)
        #expect(admitted)
        admitted = breaker.admit(slot: 11, at: 0)
        #expect(admitted)
        for slot in 0..<5 {
            let admitted = breaker.admit(slot: slot, at: 1)
            #expect(admitted)
        }
        for slot in 0..<5 { breaker.complete(slot: slot, succeeded: false, at: 2) }
        #expect(breaker.internalState == .open)
        // The first probe after 10 s, then the two old calls complete while half-open.
        admitted = breaker.admit(slot: 0, at: 10 * second + 2)
        #expect(admitted)
        breaker.complete(slot: 10, succeeded: true, at: 10 * second + 3)
        breaker.complete(slot: 11, succeeded: true, at: 10 * second + 4)
        #expect(breaker.halfOpenCalls == -1)
        #expect(breaker.consecutiveSuccesses == 2)
        // With a limit of one probe, two more are admitted before the limit binds.
        admitted = breaker.admit(slot: 1, at: 10 * second + 5)
        #expect(admitted)
        admitted = breaker.admit(slot: 2, at: 10 * second + 6)
        #expect(admitted)
        admitted = breaker.admit(slot: 3, at: 10 * second + 7)
        #expect(!admitted)
        // The old calls' successes count towards closing: one probe success closes it.
        breaker.complete(slot: 0, succeeded: true, at: 10 * second + 8)
        #expect(breaker.internalState == .closed)
    }

    @Test("Zero maximum probes means unlimited")
    func unlimitedProbes() {
        let configuration = StaticBreaker.Configuration(failureThreshold: 1, successThreshold: 1, halfOpenTimeoutNanoseconds: 5, halfOpenMaxCalls: 0)
        var breaker = StaticBreaker(configuration: configuration)
        breaker.complete(slot: 0, succeeded: false, at: 0)
        #expect(breaker.internalState == .open)
        for slot in 0..<100 {
            let admitted = breaker.admit(slot: slot, at: 5)
            #expect(admitted)
        }
    }

    @Test("In the harness: blocked calls are never reported, and transitions are logged at the event that caused them")
    func inTheHarness() throws {
        typealias Request = TestSupport.Request
        let scenario = TestSupport.scenario([(60, 60, 0.5)])
        // Five failures trip Static-BAU at 1.1 s; the next calls are blocked (their failures
        // must not reach it); the call at 12 s probes and its success... needs 3 for BAU.
        var requests = (0..<5).map { Request(start: Int64($0) * 100_000_000, duration: 700_000_000, success: false) }
        requests += (0..<5).map { Request(start: 2 * second + Int64($0) * 100_000_000, duration: 100_000_000, success: false) }
        requests += (0..<3).map { Request(start: 12 * second + Int64($0) * second, duration: 100_000_000, success: true) }
        let (result, series) = try OpenLoopBenchmark.run(
            events: TestSupport.events(requests), scenario: scenario, slo: TestSupport.slo(), candidates: [.staticBAU])
        let bau = result.candidates[0]
        #expect(bau.allowed == 8)
        #expect(bau.blocked == 5)
        let transitions = series.candidates[0].transitions
        #expect(transitions.map(\.to) == [.open, .closed])
        #expect(transitions[0].time == 400_000_000 + 700_000_000)
        #expect(transitions[1].time == 14 * second + 100_000_000)
        // The whole run is one incident: blocking is never lost business.
        #expect(bau.lostBusiness == 0)
        #expect(bau.transitions.prematureRecoveries == 1)
        #expect(bau.missedIncidents == 0)
    }
}
