import Levee
import Testing
@testable import LeveeSimulation

@Suite("Throttling baselines: Google SRE adaptive throttling and Envoy admission control")
struct ThrottlingCandidateTests {
    let second = TestSupport.second

    /// Drives `candidate` with `rate` evenly spaced arrivals per second for `seconds`; each admitted
    /// call completes 1 ms later with the outcome `succeeds(indexInSecond, admittedSoFarInSecond)`.
    /// Returns the admitted fraction over the last `tail` seconds.
    func drive<C: BenchmarkCandidate>(
        _ candidate: inout C, rate: Int, seconds: Int, tail: Int,
        succeeds: (_ arrival: Int, _ admittedInSecond: Int) -> Bool
    ) -> Double {
        var admittedInTail = 0
        var arrivalsInTail = 0
        let spacing = second / Int64(rate)
        for s in 0..<seconds {
            var admittedThisSecond = 0
            for i in 0..<rate {
                let t = Int64(s) * second + Int64(i) * spacing
                let arrival = s * rate + i
                if candidate.admit(slot: 0, at: t) {
                    candidate.complete(slot: 0, succeeded: succeeds(arrival, admittedThisSecond), at: t + 1_000_000)
                    admittedThisSecond += 1
                    if s >= seconds - tail { admittedInTail += 1 }
                }
                if s >= seconds - tail { arrivalsInTail += 1 }
            }
        }
        return Double(admittedInTail) / Double(arrivalsInTail)
    }

    @Test("SRE: the probability is max(0, (requests − 2·accepts)/(requests + 1)), rejected calls included")
    func sreFormula() {
        var throttle = SREAdaptiveThrottle()
        // No history: nothing is rejected while requests ≤ 2·accepts.
        for _ in 0..<400 {
            let admitted = throttle.admit(slot: 0, at: 0)
            #expect(admitted)
            throttle.complete(slot: 0, succeeded: true, at: 0)
        }
        // 600 more requests that never complete: every one counts, admitted or not.
        for _ in 0..<600 { _ = throttle.admit(slot: 0, at: 1) }
        #expect(throttle.requests == 1000 && throttle.accepts == 400)
        throttle.complete(slot: 0, succeeded: false, at: 2)
        #expect(abs(throttle.rejectionProbability - 200.0 / 1001.0) < 1e-12)
        #expect(throttle.reportedState == .throttled)
        // 70 % accepted: K·accepts exceeds requests, no rejection.
        var healthy = SREAdaptiveThrottle()
        for index in 0..<1000 where healthy.admit(slot: 0, at: 0) {
            healthy.complete(slot: 0, succeeded: index % 10 < 7, at: 0)
        }
        #expect(healthy.rejectionProbability == 0)
        #expect(healthy.reportedState == .closed)
    }

    @Test("SRE steady state: rejection ≈ 1 − K × accept ratio against a capacity-limited backend")
    func sreSteadyState() {
        // The backend accepts at most `capacity` calls per second out of 100 offered.
        for (capacity, expected) in [(70, 0.0), (40, 0.2)] {
            var throttle = SREAdaptiveThrottle()
            let admitted = drive(&throttle, rate: 100, seconds: 600, tail: 120) { _, inSecond in inSecond < capacity }
            #expect(abs((1 - admitted) - expected) < 0.03, "capacity \(capacity): rejected \(1 - admitted)")
            #expect(abs(throttle.rejectionProbability - expected) < 0.03)
            #expect(throttle.reportedState == (expected == 0 ? .closed : .throttled))
        }
    }

    @Test("SRE: the window forgets after two minutes, and the draw is deterministic")
    func sreWindowAndDeterminism() {
        var first = SREAdaptiveThrottle()
        var second = SREAdaptiveThrottle()
        var a: [Bool] = []
        var b: [Bool] = []
        for step in 0..<5000 {
            let t = Int64(step) * 10_000_000
            let x = first.admit(slot: 0, at: t)
            let y = second.admit(slot: 0, at: t)
            a.append(x)
            b.append(y)
            if x { first.complete(slot: 0, succeeded: step % 5 == 0, at: t + 1) }
            if y { second.complete(slot: 0, succeeded: step % 5 == 0, at: t + 1) }
        }
        #expect(a == b)
        #expect(a.contains(false))
        #expect(first.reportedState == .throttled)
        // 121 s of silence later every bucket has expired.
        let admitted = first.admit(slot: 0, at: 5000 * 10_000_000 + 121 * self.second); #expect(admitted)
        #expect(first.rejectionProbability == 0)
        #expect(first.reportedState == .closed)
    }

    @Test("Envoy: rejection ≈ 1 − s/threshold at steady state")
    func envoySteadyState() {
        var control = EnvoyAdmissionControl(slo: TestSupport.slo(0.90))
        #expect(control.configuration.maxRejectionProbability == 0.80)
        #expect(control.configuration.samplingWindowSeconds == 30)
        // 45 % of admitted calls succeed: 1 − 0.45/0.9 = 0.5.
        var counter = 0
        let admitted = drive(&control, rate: 200, seconds: 120, tail: 60) { _, _ in
            counter += 1
            return counter % 20 < 9
        }
        #expect(abs(control.rejectionProbability - 0.5) < 0.02)
        #expect(abs((1 - admitted) - 0.5) < 0.03, "rejected \(1 - admitted)")
        #expect(control.reportedState == .throttled)
    }

    @Test("Envoy: the rejection is capped at 0.8, and a healthy success rate rejects nothing")
    func envoyCapAndHealthy() {
        var failing = EnvoyAdmissionControl(slo: TestSupport.slo(0.90))
        let admitted = drive(&failing, rate: 200, seconds: 120, tail: 60) { _, _ in false }
        #expect(failing.rejectionProbability == 0.8)
        #expect(abs(admitted - 0.2) < 0.03)
        #expect(failing.reportedState == .throttled)

        var healthy = EnvoyAdmissionControl(slo: TestSupport.slo(0.90))
        var counter = 0
        let all = drive(&healthy, rate: 200, seconds: 60, tail: 30) { _, _ in
            counter += 1
            return counter % 20 != 0  // 95 %
        }
        #expect(all == 1)
        #expect(healthy.rejectionProbability == 0)
        #expect(healthy.reportedState == .closed)
    }

    @Test("Envoy: the formula on explicit counts, and the window is 30 s")
    func envoyFormula() {
        var control = EnvoyAdmissionControl(slo: TestSupport.slo(0.80))
        for index in 0..<100 { control.complete(slot: 0, succeeded: index < 60, at: 0) }
        // (100 − 60/0.8) / 101 = 25/101
        #expect(abs(control.rejectionProbability - 25.0 / 101.0) < 1e-12)
        _ = control.admit(slot: 0, at: 31 * second)
        #expect(control.total == 0)
        #expect(control.rejectionProbability == 0)
    }

    @Test("The descriptors build the candidates")
    func descriptors() {
        #expect(CandidateDescriptor.sreThrottle.identifier == "sre-throttle")
        #expect(CandidateDescriptor.envoyAdmission.identifier == "envoy-admission")
        #expect(CandidateDescriptor.resilience4j.identifier == "resilience4j")
    }

    @Test("The three baselines run through the open-loop harness: every request decided, none misused")
    func harness() throws {
        let scenario = TestSupport.scenario([(20, 3000, 0.005), (6, 18000, 0.6), (4, 9000, 0.02), (20, 3000, 0.005)], name: "short")
        let configuration = OpenLoopConfiguration(
            scenario: scenario, slo: TestSupport.slo(), seeds: [1],
            candidates: [.sreThrottle, .envoyAdmission, .resilience4j], generator: .fast, seriesSeed: nil, parallelism: 2)
        let first = try OpenLoopBenchmark.run(configuration)
        let again = try OpenLoopBenchmark.run(configuration)
        let seed = try #require(first.seedResults.first)
        for candidate in seed.candidates {
            #expect(candidate.allowed + candidate.blocked == seed.requestCount, "\(candidate.name)")
            #expect(candidate.protocolErrors == 0)
        }
        #expect(first.seedResults.first?.candidates.map(\.allowed) == again.seedResults.first?.candidates.map(\.allowed))
        // The incident (60 % errors against a 90 % SLO) makes Envoy reject. SRE with K = 2 does not:
        // over its 2-minute window the accepts never fall below half the requests.
        #expect(try #require(seed.result(for: "sre-throttle")).blocked == 0)
        #expect(try #require(seed.result(for: "envoy-admission")).blocked > 0)
    }
}
