import Levee
import Synchronization
import Testing
@testable import LeveeSimulation

/// Candidates for the runner tests.
enum ClosedLoopTestCandidates {
    /// Admits everything, like AllowAll, but is a different type with its own bookkeeping.
    struct AdmitEverything: BenchmarkCandidate {
        var reportedState: LeveeState.Kind { .closed }
        var admitted = Set<Int>()
        mutating func admit(slot: Int, at instant: Int64) -> Bool {
            admitted.insert(slot)
            return true
        }
        mutating func complete(slot: Int, succeeded: Bool, at instant: Int64) {
            precondition(admitted.remove(slot) != nil, "completion for a slot that was not admitted")
        }
    }

    /// Admits only at the instance built first; reports open, so every admission is a probe.
    struct FirstInstanceOnly: BenchmarkCandidate {
        var isFirst: Bool
        var reportedState: LeveeState.Kind { .open }
        mutating func admit(slot: Int, at instant: Int64) -> Bool { isFirst }
        mutating func complete(slot: Int, succeeded: Bool, at instant: Int64) {}
    }

    final class InstanceCounter: Sendable {
        let built = Atomic<Int>(0)
    }

    static let admitEverything = CandidateDescriptor(identifier: "admit-everything", displayName: "AdmitEverything", summary: "test") { _ in
        AdmitEverything()
    }

    static func firstInstanceOnly() -> CandidateDescriptor {
        let counter = InstanceCounter()
        return CandidateDescriptor(identifier: "first-instance", displayName: "FirstInstance", summary: "test") { _ in
            FirstInstanceOnly(isFirst: counter.built.wrappingAdd(1, ordering: .relaxed).oldValue == 0)
        }
    }
}

@Suite("Closed loop: the runner end to end on short scenarios")
struct ClosedLoopRunnerTests {
    let second = TestSupport.second

    /// 30 s calm, 10 s at 10x traffic (an overload for one replica), 20 s calm: about 15,000 requests.
    let scenario = TestSupport.scenario([(30, 6000, 0.005), (10, 60_000, 0.005), (20, 6000, 0.005)], name: "short")

    func configuration(seeds: [UInt64] = [1], candidates: [CandidateDescriptor], backend: BackendConfiguration = .realistic,
                       clients: ClientPolicy = .standard, instances: Int = 1, parallelism: Int = 2) -> ClosedLoopConfiguration {
        ClosedLoopConfiguration(scenario: scenario, slo: TestSupport.slo(), seeds: seeds, candidates: candidates, backend: backend,
                                clients: clients, instances: instances, parallelism: parallelism)
    }

    @Test("The same seed gives the same results whatever the thread count; seeds differ")
    func determinism() throws {
        let candidates: [CandidateDescriptor] = [.staticBAU, .levee]
        let one = try ClosedLoopBenchmark.run(configuration(seeds: [3, 4], candidates: candidates, parallelism: 1))
        let two = try ClosedLoopBenchmark.run(configuration(seeds: [3, 4], candidates: candidates, parallelism: 2))
        #expect(one.seedResults == two.seedResults)
        #expect(one.seedResults.map(\.seed) == [3, 4])
        #expect(one.seedResults[0].candidates.map(\.identifier) == candidates.map(\.identifier))
        #expect(one.seedResults[0].candidates[0] != one.seedResults[1].candidates[0])
        for seed in one.seedResults {
            // Every candidate faces the same exogenous demand.
            #expect(Set(seed.candidates.map(\.offered)).count == 1)
            for candidate in seed.candidates {
                #expect(candidate.successes + candidate.failures == candidate.allowed, "\(candidate.name)")
                #expect(candidate.protocolErrors == 0)
                #expect(candidate.backend.requests == candidate.allowed)
            }
        }
    }

    @Test("Common random numbers: two different admit-everything candidates get identical backend outcomes",
          arguments: [BackendConfiguration.realistic, .original])
    func commonRandomNumbers(backend: BackendConfiguration) throws {
        let result = try ClosedLoopBenchmark.run(configuration(
            seeds: [11], candidates: [.allowAll, ClosedLoopTestCandidates.admitEverything], backend: backend))
        var allowAll = result.seedResults[0].candidates[0]
        let other = result.seedResults[0].candidates[1]
        allowAll.identifier = other.identifier
        allowAll.name = other.name
        #expect(allowAll == other)
        #expect(other.retries > 0, "the overload should make clients retry")
        // Queue timeouts under the overload: their workers' time is wasted, and part of all work.
        #expect(other.backend.queueDrops > 0)
        #expect(other.wastedWorkSeconds > 0)
        #expect(other.wastedWorkSeconds < other.backend.busySlotSeconds)
    }

    @Test("A candidate that blocks everything puts no load on the backend; immediate retries make every attempt")
    func blocking() throws {
        let clients = ClientPolicy(retry: .immediate(maxAttempts: 3))
        let result = try ClosedLoopBenchmark.run(configuration(candidates: [.blockAll], clients: clients))
        let blocked = result.seedResults[0].candidates[0]
        #expect(blocked.backend.requests == 0)
        #expect(blocked.backend.busySlotNanoseconds == 0)
        #expect(blocked.allowed == 0)
        #expect(blocked.delta == 0)
        #expect(blocked.goodput == 0)
        #expect(blocked.retries == 2 * blocked.offered)
        #expect(blocked.blocked == 3 * blocked.offered)
        // 3,000 + 10,000 + 2,000 expected; ±5 Poisson standard deviations.
        #expect(abs(blocked.offered - 15_000) < 600)
        // The idle backend would have served each attempt unless its own 0.5 % error draw failed.
        let wouldSucceed = Double(blocked.blockedWouldSucceed) / Double(blocked.blocked)
        let standardError = (0.005 * 0.995 / Double(blocked.blocked)).squareRoot()
        #expect(abs(wouldSucceed - 0.995) < 5 * standardError, "\(wouldSucceed)")
    }

    @Test("Without retries every exogenous request is one attempt")
    func noRetries() throws {
        let result = try ClosedLoopBenchmark.run(configuration(candidates: [.allowAll, .staticPeak], clients: .original))
        for candidate in result.seedResults[0].candidates {
            #expect(candidate.retries == 0)
            #expect(candidate.allowed + candidate.blocked == candidate.offered)
            #expect(candidate.requestsSucceeded == candidate.successes)
        }
    }

    @Test("The retry budget caps retries at its ratio of first attempts")
    func budget() throws {
        // Every attempt fails (rejected), so clients want two retries each; the budget grants 10 %.
        let clients = ClientPolicy(retry: .exponentialBackoff(baseNanoseconds: 50_000_000, capNanoseconds: 500_000_000, maxAttempts: 3, jitter: true),
                                   budget: .init(ratio: 0.1, windowNanoseconds: 10 * second))
        let result = try ClosedLoopBenchmark.run(configuration(candidates: [.blockAll], clients: clients))
        let candidate = result.seedResults[0].candidates[0]
        let ratio = Double(candidate.retries) / Double(candidate.offered)
        #expect(ratio <= 0.1)
        // The budget is saturated all the time, so the ratio is nearly reached.
        #expect(ratio > 0.09, "\(ratio)")
        // Each request ends with one refused retry unless it used all three attempts.
        #expect(candidate.retriesDenied + candidate.retries / 2 >= candidate.offered - candidate.retries)
        #expect(candidate.retriesDenied > candidate.offered * 8 / 10)
    }

    @Test("Cooperation: attempts are dealt round-robin to the instances; admissions while open count as probes")
    func roundRobin() throws {
        let result = try ClosedLoopBenchmark.run(configuration(
            candidates: [ClosedLoopTestCandidates.firstInstanceOnly()], clients: .original, instances: 4))
        let candidate = result.seedResults[0].candidates[0]
        // Attempt k goes to instance k mod 4, and only instance 0 admits.
        #expect(candidate.allowed == (candidate.offered + 3) / 4)
        #expect(candidate.probes == candidate.allowed)
        #expect(candidate.backend.requests == candidate.allowed)
    }

    @Test("Configuration errors are reported, not trapped")
    func errors() {
        #expect(throws: ClosedLoopError.noCandidates) { try ClosedLoopBenchmark.run(configuration(candidates: [])) }
        #expect(throws: ClosedLoopError.noSeeds) { try ClosedLoopBenchmark.run(configuration(seeds: [], candidates: [.levee])) }
        #expect(throws: ClosedLoopError.invalidInstances(0)) {
            try ClosedLoopBenchmark.run(configuration(candidates: [.levee], instances: 0))
        }
        #expect(throws: ClosedLoopError.sweepNeedsLeveeAndBaseline) {
            try ClosedLoopSweep.slo.run(configuration(candidates: [.levee]))
        }
    }

    @Test("Several seeds: means with intervals and each candidate paired against the best other")
    func aggregates() throws {
        let result = try ClosedLoopBenchmark.run(configuration(seeds: [1, 2, 3], candidates: [.levee, .staticPeak, .allowAll]))
        let levee = try #require(result.aggregate(for: "levee"))
        let peak = try #require(result.aggregate(for: "static-peak"))
        // AllowAll is never the reference while a real baseline is there.
        #expect(levee.comparedWith == "static-peak")
        #expect(peak.comparedWith == "levee")
        let differences = result.seedResults.map { $0.result(for: "levee")!.delta - $0.result(for: "static-peak")!.delta }
        let paired = try #require(levee.pairedDeltaDifference)
        #expect(abs(paired.mean - differences.reduce(0, +) / 3) < 1e-9)
        #expect(paired.halfWidth != nil)
        #expect(levee[.delta]?.count == 3)
    }

    @Test("Client deadlines: a slow backend's late answers are timeouts at the deadline, and their work is wasted")
    func deadlinesAndWastedWork() throws {
        // 10 rps for 60 s against service times with p50 1 s and p99 3 s; the backend itself gives
        // up only after 10 s, and Little's law gives it ample slots, so nothing queues.
        let slow = try Phase(label: "slow", durationSeconds: 60, rpm: 600, errorRate: 0, p50Milliseconds: 1000,
                             p99Milliseconds: 3000, timeoutMilliseconds: 4000)
        var backend = BackendConfiguration.realistic
        backend.timeout = 10 * second
        let configuration = ClosedLoopConfiguration(
            scenario: try Scenario(name: "slow", phases: [slow]), slo: TestSupport.slo(), seeds: [5], candidates: [.allowAll],
            backend: backend, clients: .original, parallelism: 1)
        let candidate = try ClosedLoopBenchmark.run(configuration).seedResults[0].candidates[0]

        #expect(candidate.timeouts > 0)
        #expect(candidate.lateAnswers == candidate.timeouts)
        #expect(candidate.failures == candidate.timeouts)
        #expect(candidate.goodput == candidate.successes)
        #expect(candidate.latencyP99Milliseconds <= 1500 * 1.004)
        // Each wasted attempt held its slot for more than the 1.5 s deadline.
        #expect(candidate.wastedWorkSeconds > 1.5 * Double(candidate.timeouts))
        #expect(candidate.wastedWorkSeconds < candidate.backend.busySlotSeconds)
        // The timeout fraction is the service-time distribution's mass above 1.5 s (binomial, 5 sd).
        var low = 0.0, high = 1.0
        for _ in 0..<60 {
            let middle = (low + high) / 2
            if slow.latency.quantile(middle) < 1500 { low = middle } else { high = middle }
        }
        let expected = 1 - low
        let observed = Double(candidate.timeouts) / Double(candidate.allowed)
        let standardError = (expected * (1 - expected) / Double(candidate.allowed)).squareRoot()
        #expect(abs(observed - expected) < 5 * standardError, "observed \(observed), expected \(expected)")
    }
}
