import Levee
import Testing
@testable import LeveeSimulation

@Suite("Static window breaker (the tuned family): mechanics and specs")
struct StaticWindowBreakerTests {
    let second = TestSupport.second

    func configuration(threshold: Int = 3, window: Int64 = 1, open: Int64 = 10, probes: Int = 2) throws -> StaticWindowBreaker.Configuration {
        try .init(threshold: threshold, windowNanoseconds: window * second, openNanoseconds: open * second, probes: probes)
    }

    /// A breaker tripped by `threshold` failures completing at `time`.
    func tripped(_ configuration: StaticWindowBreaker.Configuration, at time: Int64) -> StaticWindowBreaker {
        var breaker = StaticWindowBreaker(configuration: configuration, slotCapacity: 64)
        for slot in 0..<configuration.threshold { _ = breaker.admit(slot: slot, at: time - 1_000) }
        for slot in 0..<configuration.threshold { breaker.complete(slot: slot, succeeded: false, at: time) }
        return breaker
    }

    @Test("Opens at threshold failures within the window, not when they are spread wider; successes do not erase failures")
    func trips() throws {
        var breaker = StaticWindowBreaker(configuration: try configuration(), slotCapacity: 64)
        // Three failures 0.6 s apart: the first and third are 1.2 s apart, outside the 1 s window.
        for (index, time) in [0, 600_000_000, 1_200_000_000].enumerated() {
            _ = breaker.admit(slot: index, at: Int64(time))
            breaker.complete(slot: index, succeeded: false, at: Int64(time))
        }
        #expect(breaker.reportedState == .closed)
        breaker.complete(slot: 5, succeeded: true, at: 1_300_000_000)
        breaker.complete(slot: 6, succeeded: false, at: 1_500_000_000)
        // Failures at 0.6, 1.2 and 1.5 s fall within one second despite the success.
        #expect(breaker.internalState == .open)
        #expect(breaker.openedAt == 1_500_000_000)
    }

    @Test("Open rejects for the open duration, then admits at most `probes` probes; `probes` successes close it")
    func probesClose() throws {
        var admitted = false
        var breaker = tripped(try configuration(probes: 2), at: 100 * second)
        admitted = breaker.admit(slot: 10, at: 110 * second - 1)
        #expect(!admitted)
        admitted = breaker.admit(slot: 10, at: 110 * second)
        #expect(admitted)
        #expect(breaker.internalState == .halfOpen)
        #expect(breaker.reportedState == .open)
        admitted = breaker.admit(slot: 11, at: 110 * second + 1)
        #expect(admitted)
        admitted = breaker.admit(slot: 12, at: 110 * second + 2)
        #expect(!admitted)
        breaker.complete(slot: 10, succeeded: true, at: 110 * second + 3)
        // One success and one probe in flight already make two: no third probe.
        admitted = breaker.admit(slot: 12, at: 110 * second + 4)
        #expect(!admitted)
        breaker.complete(slot: 11, succeeded: true, at: 110 * second + 5)
        #expect(breaker.internalState == .closed)
        // The failure ring was cleared: two new failures do not re-open it.
        breaker.complete(slot: 20, succeeded: false, at: 110 * second + 6)
        breaker.complete(slot: 21, succeeded: false, at: 110 * second + 7)
        #expect(breaker.internalState == .closed)
    }

    @Test("A failed probe re-opens; completions of calls admitted before the trip are ignored while half-open")
    func staleCompletions() throws {
        var admitted = false
        var breaker = StaticWindowBreaker(configuration: try configuration(threshold: 1, probes: 1), slotCapacity: 64)
        admitted = breaker.admit(slot: 1, at: 0)
        #expect(admitted)
        admitted = breaker.admit(slot: 2, at: 0)
        #expect(admitted)
        breaker.complete(slot: 1, succeeded: false, at: second)
        #expect(breaker.internalState == .open)
        admitted = breaker.admit(slot: 3, at: 11 * second)
        #expect(admitted)
        // Slot 2 was admitted while closed: neither its success nor a failure touches the probe.
        breaker.complete(slot: 2, succeeded: true, at: 11 * second + 1)
        #expect(breaker.internalState == .halfOpen)
        #expect(breaker.probesInFlight == 1)
        breaker.complete(slot: 3, succeeded: false, at: 12 * second)
        #expect(breaker.internalState == .open)
        #expect(breaker.openedAt == 12 * second)
        #expect(breaker.protocolErrors == 0)
    }

    @Test("Specs read back what they print, in any order, with units and blanks")
    func specRoundTrip() throws {
        let configuration = try configuration(threshold: 5, window: 10, open: 30, probes: 3)
        #expect(configuration.spec == "static(threshold=5,window=10s,open=30s,probes=3)")
        #expect(try StaticWindowBreaker.Configuration(spec: configuration.spec) == configuration)
        let reordered = try StaticWindowBreaker.Configuration(spec: " Static( probes = 3, open=0.5m ,window=10000ms,threshold=5 ) ")
        #expect(reordered == configuration)
        let fine = try StaticWindowBreaker.Configuration(spec: "static(threshold=1,window=250ms,open=1.5,probes=1)")
        #expect(fine.windowNanoseconds == 250_000_000)
        #expect(fine.openNanoseconds == 1_500_000_000)
        #expect(try StaticWindowBreaker.Configuration(spec: fine.spec) == fine)
    }

    @Test("Bad specs are refused with the reason", arguments: [
        ("static(threshold=5,window=10s,open=30s)", "'probes' is missing"),
        ("static(threshold=5,window=10s,open=30s,probes=3,jitter=1)", "unknown parameter 'jitter'"),
        ("static(threshold=5,threshold=6,window=10s,open=30s,probes=3)", "'threshold' is given twice"),
        ("static(threshold=0,window=10s,open=30s,probes=3)", "threshold must be a whole number from 1"),
        ("static(threshold=five,window=10s,open=30s,probes=3)", "threshold must be a whole number, got 'five'"),
        ("static(threshold=5,window=-1s,open=30s,probes=3)", "window must be a positive duration"),
        ("static(threshold=5,window=10s,open=nan,probes=3)", "open must be a positive duration"),
        ("static(threshold=5,window=10s,open=30s,probes=0)", "probes must be a whole number from 1"),
        ("static(threshold=5 window=10s,open=30s,probes=3)", "threshold must be a whole number, got '5 window=10s'"),
        ("static(threshold=5,,window=10s,open=30s,probes=3)", "'' in 'static(threshold=5,,window=10s,open=30s,probes=3)' is not key=value"),
        ("static(threshold=5,window=10s,open=30s,probes=3)s", "is not of the form static(threshold=N"),
    ])
    func badSpecs(spec: String, reason: String) {
        #expect(throws: CandidateSpecError.self) { try StaticWindowBreaker.Configuration(spec: spec) }
        do {
            _ = try CandidateDescriptor.parseList("levee,\(spec)")
            Issue.record("'\(spec)' was accepted")
        } catch {
            #expect(error.description.contains(reason), "\(error.description)")
        }
    }

    @Test("Candidate lists mix names and specs; commas inside a spec do not split it; duplicates collapse")
    func lists() throws {
        let spec = "static(threshold=5,window=10s,open=30s,probes=3)"
        let list = try CandidateDescriptor.parseList("levee, \(spec) ,static-peak,\(spec)")
        #expect(list.map(\.identifier) == ["levee", spec, "static-peak"])
        #expect(list[1].displayName == "Static(t=5,w=10s,o=30s,p=3)")
        let hindsight = try CandidateDescriptor.parseList("static-hindsight")[0]
        #expect(hindsight.displayName == "Static-Hindsight")
        #expect(CandidateDescriptor.builtIn.contains(hindsight))
        #expect(throws: OpenLoopError.self) { try CandidateDescriptor.parseList("levee,static(threshold=5") }
        #expect(throws: OpenLoopError.self) { try CandidateDescriptor.parseList("levee)") }
    }

    @Test("A spec candidate scores exactly like the same breaker built directly, through the objective too")
    func specMatchesDirect() throws {
        let configuration = try configuration(threshold: 5, window: 1, open: 3, probes: 2)
        let direct = CandidateDescriptor(identifier: "direct", displayName: "direct", summary: "test") { environment in
            StaticWindowBreaker(configuration: configuration, slotCapacity: environment.slotCapacity)
        }
        let spec = try CandidateDescriptor.parseList(configuration.spec)[0]
        let scenario = TuningTests.incidentScenario
        let result = try OpenLoopBenchmark.run(OpenLoopConfiguration(
            scenario: scenario, slo: TestSupport.slo(), seeds: [11, 12], candidates: [direct, spec], generator: .fast, parallelism: 2))
        for seed in result.seedResults {
            let a = try #require(seed.result(for: "direct"))
            let b = try #require(seed.result(for: configuration.spec))
            #expect(a.totalPenalty == b.totalPenalty)
            #expect(a.allowed == b.allowed && a.blocked == b.blocked && a.transitions == b.transitions)
            #expect(a.totalPenalty > 0)
        }
        let objective = OpenLoopTuningObjective(scenario: scenario, slo: TestSupport.slo(), generator: .fast, parallelism: 2)
        let scores = try objective.evaluate([spec], seeds: [11, 12])
        let mean = result.seedResults.map { $0.result(for: "direct")!.totalPenalty }.reduce(0, +) / 2
        #expect(abs(scores[0] - mean) < 1e-9 * mean)
    }
}
