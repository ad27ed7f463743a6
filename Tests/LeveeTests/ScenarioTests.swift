import Testing
@testable import Levee

/// Fast deterministic scenarios on simulated time (after Semian's experiment list), each with its
/// envelope stated as numbers: how fast Levee detects, how much it sheds, how quickly it recovers,
/// how little it probes.
@Suite struct ScenarioTests {
    static let fast = ScenarioDriver.Latency.exponential(meanMilliseconds: 20)

    func segment(_ seconds: Double, rate: Double = 1000, failures: Double, latency: ScenarioDriver.Latency = fast)
        -> ScenarioDriver.Segment {
        .init(seconds: seconds, rate: rate, failureRate: failures, latency: latency)
    }

    @Test("A sudden 20 % error spike (SLO 0.95) opens within 300 ms, sheds ≥ 97 % of it, recovers within 3 s")
    func suddenSpike() throws {
        // 20 % is four times the 5 % budget: the dependency is down for this SLO.
        var driver = ScenarioDriver(slo: try SLO(successRate: 0.95, timeout: .seconds(1)))
        let trace = driver.run([segment(120, failures: 0.01), segment(60, failures: 0.20), segment(60, failures: 0.01)])
        #expect(trace.rejected(from: 0, to: 120) == 0)
        let detection = try #require(trace.firstTransition(to: .open, after: 120))
        #expect(detection < 0.3)
        #expect(trace.admittedShare(from: 121, to: 180) < 0.03)
        let recovery = try #require(trace.firstTransition(to: .closed, after: 180))
        #expect(recovery < 3)
        #expect(trace.admittedShare(from: 184, to: 240) > 0.999)
        #expect(trace.transitionCount(from: 0, to: 240) <= 4)
    }

    @Test("A partial degradation (15 % errors, SLO 0.90) is shed in proportion: half the calls, ±15 points")
    func proportionalShedding() throws {
        var driver = ScenarioDriver(slo: try SLO(successRate: 0.90, timeout: .seconds(1)))
        let trace = driver.run([segment(60, failures: 0.01), segment(120, failures: 0.15), segment(60, failures: 0.01)])
        let shed = 1 - trace.admittedShare(from: 90, to: 180)
        #expect(shed > 0.35 && shed < 0.65)
        #expect(trace.seconds[90..<180].allSatisfy { !$0.wasOpen })
        #expect(trace.admittedShare(from: 200, to: 240) > 0.999)
    }

    @Test("A 100 % outage (SLO 0.99, 1,000 rps) opens within 50 ms, probes ≤ 2 % of calls, recovers within 4 s")
    func outageAndRecovery() throws {
        var driver = ScenarioDriver(slo: try SLO(successRate: 0.99, timeout: .seconds(1)))
        let trace = driver.run([segment(60, failures: 0.001), segment(300, failures: 1), segment(60, failures: 0.001)])
        let detection = try #require(trace.firstTransition(to: .open, after: 60))
        #expect(detection < 0.05)
        #expect(trace.admittedShare(from: 61, to: 360) < 0.02)
        // The probe budget backs off as the outage ages: the last minute probes less than the first.
        #expect(trace.admittedShare(from: 300, to: 360) < trace.admittedShare(from: 61, to: 121))
        // At a 1 % budget a success is weak evidence (0.015 nats against the 2 % "down" rate):
        // closing needs ~670 outcomes at full traffic after the ramp, about 0.7 s at 1,000 rps.
        let recovery = try #require(trace.firstTransition(to: .closed, after: 360))
        #expect(recovery < 4)
        #expect(trace.transitionCount(from: 0, to: 420) == 2)
    }

    @Test("Repeated spikes (5 × 30 s at 50 % errors) are each caught within 300 ms and released within 3 s")
    func repeatedSpikes() throws {
        var driver = ScenarioDriver(slo: try SLO(successRate: 0.95, timeout: .seconds(1)))
        var segments = [segment(60, failures: 0.01)]
        for _ in 0..<5 { segments += [segment(30, failures: 0.5), segment(60, failures: 0.01)] }
        let trace = driver.run(segments)
        for spike in 0..<5 {
            let start = 60 + Double(spike) * 90
            let detection = try #require(trace.firstTransition(to: .open, after: start))
            #expect(detection < 0.3)
            let recovery = try #require(trace.firstTransition(to: .closed, after: start + 30))
            #expect(recovery < 3)
            #expect(trace.admittedShare(from: Int(start) + 1, to: Int(start) + 30) < 0.03)
        }
        #expect(trace.transitionCount(from: 0, to: 510) == 10)
    }

    @Test("Errors rising from 1 % to 5 %: SLO 0.99 sheds once the budget is exceeded, SLO 0.95 never sheds")
    func gradualIncrease() throws {
        // 1 % → 5 % in eight one-minute steps of 0.5 points.
        let steps = (0..<9).map { step in segment(60, failures: 0.01 + 0.005 * Double(step)) }
        var strict = ScenarioDriver(slo: try SLO(successRate: 0.99, timeout: .seconds(1)))
        let strictTrace = strict.run(steps)
        // From 2 % (twice the 1 % budget) on, the dependency is down for this SLO: ≥ 90 % shed.
        #expect(1 - strictTrace.admittedShare(from: 150, to: 540) > 0.90)
        var loose = ScenarioDriver(slo: try SLO(successRate: 0.95, timeout: .seconds(1)))
        let looseTrace = loose.run(steps)
        #expect(looseTrace.rejected(from: 0, to: 540) == 0)
    }

    @Test("An error rate just inside the SLO (0.9 %, SLO 0.99) for an hour at 1,000 rps is never shed")
    func justInsideSLO() throws {
        var driver = ScenarioDriver(slo: try SLO(successRate: 0.99, timeout: .seconds(1)))
        let trace = driver.run([segment(3600, failures: 0.009)])
        #expect(trace.rejected(from: 0, to: 3600) == 0)
        #expect(trace.transitions.isEmpty)
    }

    @Test("Errors oscillating 2 % ↔ 6 % (SLO 0.95): nothing shed at 2 %, at most a proportional share at 6 %")
    func oscillation() throws {
        var driver = ScenarioDriver(slo: try SLO(successRate: 0.95, timeout: .seconds(1)))
        var segments: [ScenarioDriver.Segment] = []
        for _ in 0..<5 { segments += [segment(60, failures: 0.02), segment(60, failures: 0.06)] }
        let trace = driver.run(segments)
        for cycle in 0..<5 {
            let start = cycle * 120
            // After 10 s of settling, the 2 % half is left alone.
            #expect(trace.rejected(from: start + 10, to: start + 60) == 0)
            // 6 % is 1.2× the budget: a proportional share (≤ 35 %), never an open circuit.
            #expect(1 - trace.admittedShare(from: start + 60, to: start + 120) < 0.35)
            #expect(trace.seconds[(start + 60)..<(start + 120)].allSatisfy { !$0.wasOpen })
        }
    }

    @Test("Latency degradation without errors: the limit shrinks while admission causes queueing, then recovers")
    func latencyDegradation() throws {
        var driver = ScenarioDriver(slo: try SLO(successRate: 0.99, timeout: .seconds(2)))
        let healthy = ScenarioDriver.Latency.queueing(baseMilliseconds: 20, capacity: 60)
        let degraded = ScenarioDriver.Latency.queueing(baseMilliseconds: 20, capacity: 12)
        let trace = driver.run([
            segment(120, failures: 0, latency: healthy),
            segment(120, failures: 0, latency: degraded),
            segment(120, failures: 0, latency: healthy),
        ])
        #expect(trace.rejected(from: 0, to: 120) == 0)
        // Throttled within 10 s of the degradation, with a limit near the dependency's capacity.
        let throttled = trace.firstTransition(to: .throttled, after: 120)
        #expect(throttled != nil && throttled! < 10)
        let limits = trace.seconds[140..<240].compactMap(\.limit)
        #expect(!limits.isEmpty && limits.max()! <= 60)
        // Latency of admitted calls stays within ~3× the healthy base (unlimited, it grows without bound).
        #expect(trace.meanLatency(from: 150, to: 240) < 60)
        // Capacity given back within 30 s of the recovery.
        #expect(trace.seconds[270..<360].allSatisfy { !$0.wasThrottled && $0.rejected == 0 })
    }

    @Test("Exogenous latency (slower dependency, same traffic) is not throttled for long")
    func exogenousLatency() throws {
        var driver = ScenarioDriver(slo: try SLO(successRate: 0.99, timeout: .seconds(2)))
        let trace = driver.run([
            segment(120, failures: 0, latency: .exponential(meanMilliseconds: 20)),
            segment(120, failures: 0, latency: .exponential(meanMilliseconds: 100)),
        ])
        // At most a short experiment's worth of rejections (< 0.5 % of the slow period's calls).
        #expect(Double(trace.rejected(from: 120, to: 240)) < 0.005 * 120_000)
        #expect(trace.seconds[150..<240].allSatisfy { !$0.wasThrottled })
    }

    @Test("A burst of traffic that is also slower (3.4× the calls at 2.5× the latency, 8 % errors) is never throttled, 100 bursts in a row")
    func slowerTrafficBursts() throws {
        // Each burst raises latency past the tolerance, so the overload watch runs every time; in-flight
        // settles at its new level within a few latencies and then only fluctuates. Taking that noise
        // for growth would limit a healthy peak (and shed most of it while the limit learns the
        // latency is the dependency's own): the watch must tell them apart at every burst.
        var driver = ScenarioDriver(slo: try SLO(successRate: 0.90, timeout: .milliseconds(1500)))
        let quiet = segment(15, rate: 200, failures: 0.005, latency: .exponential(meanMilliseconds: 50))
        let burst = segment(15, rate: 680, failures: 0.08, latency: .exponential(meanMilliseconds: 125))
        var watches = 0
        var watching = false
        let trace = driver.run(Array(repeating: [quiet, burst], count: 100).flatMap { $0 }) { _, machine in
            let isWatching = if case .watching = machine.limiter.phase { true } else { false }
            if isWatching && !watching { watches += 1 }
            watching = isWatching
        }
        #expect(trace.transitions.isEmpty)
        #expect(trace.rejected(from: 0, to: trace.seconds.count) == 0)
        // The watch did run at the bursts (sampled once a second, so not every one is seen).
        #expect(watches >= 20)
    }

    @Test("At 1 rps: healthy traffic (5 %, SLO 0.90) never trips in 10 hours; an outage opens within 15 calls, recovers within 5 min")
    func oneRequestPerSecond() throws {
        var driver = ScenarioDriver(slo: try SLO(successRate: 0.90, timeout: .seconds(1)))
        let trace = driver.run([segment(36_000, rate: 1, failures: 0.05), segment(600, rate: 1, failures: 1),
                                segment(600, rate: 1, failures: 0.05)])
        #expect(trace.rejected(from: 0, to: 36_000) == 0)
        let detection = try #require(trace.firstTransition(to: .open, after: 36_000))
        #expect(detection < 15)
        // Telling 5 % from the 20 % "down" rate with 10⁻⁴ confidence takes about 100 outcomes
        // (9.2 nats at 0.094 per outcome): 100 s at 1 rps is the information limit, and the ramp
        // starts from a probe every few seconds.
        let recovery = try #require(trace.firstTransition(to: .closed, after: 36_600))
        #expect(recovery < 300)
    }

    @Test("A fleet member's share (1 rps): while its probes fail, its probe floor backs off to a sixteenth, and it still recovers within 5 min")
    func probeFloorBacksOffWhileProbesFail() throws {
        var driver = ScenarioDriver(slo: try SLO(successRate: 0.90, timeout: .seconds(1)))
        let trace = driver.run([segment(3_600, rate: 1, failures: 0.05), segment(1_800, rate: 1, failures: 1),
                                segment(600, rate: 1, failures: 0.05)])
        let detection = try #require(trace.firstTransition(to: .open, after: 3_600))
        // The budget (2 % of 1 rps) asks for a probe every 50 s. The floor, one every 2 s backed off
        // with the outage's age, sent 580 of the outage's 1,800 calls before it backed off on
        // failures (a hundred such instances: 32 probes a second); doubled on each failed probe, 39.
        let probes = trace.admitted(from: 3_600 + Int(detection.rounded(.up)) + 1, to: 5_400)
        #expect(probes < 80)
        // At most one long interval later than at the undoubled floor (101 s; 137 s now).
        let recovery = try #require(trace.firstTransition(to: .closed, after: 5_400))
        #expect(recovery < 300)
    }

    @Test("At 5,000 rps the same outage opens within 20 ms, with no configuration change")
    func fiveThousandRequestsPerSecond() throws {
        var driver = ScenarioDriver(slo: try SLO(successRate: 0.90, timeout: .seconds(1)))
        let trace = driver.run([segment(30, rate: 5000, failures: 0.05), segment(30, rate: 5000, failures: 1),
                                segment(30, rate: 5000, failures: 0.05)])
        #expect(trace.rejected(from: 0, to: 30) == 0)
        let detection = try #require(trace.firstTransition(to: .open, after: 30))
        #expect(detection < 0.02)
        let recovery = try #require(trace.firstTransition(to: .closed, after: 60))
        #expect(recovery < 2)
    }
}
