import Levee
import Synchronization
import Testing
@testable import LeveeSimulation

/// Lanes admit whole seconds of arrivals at once while a candidate says it would admit them
/// (`wouldAdmitInBulk`); the results must be those of calling the candidate for every arrival.
@Suite("Open loop: bulk admission")
struct OpenLoopBulkAdmissionTests {
    // Calm, an incident that trips every breaker, a partial recovery, calm again: closed,
    // open, half-open and closed seconds, and horizons that move back in mid-second.
    let scenario = TestSupport.scenario(
        [(20, 3000, 0.005), (6, 36000, 0.6), (4, 9000, 0.02), (10, 6000, 0.12), (20, 3000, 0.005)], name: "bulk")

    static let cases: [(String, @Sendable (CandidateEnvironment) -> any BenchmarkCandidate)] = [
        ("static-peak", { _ in StaticBreaker(configuration: .peak) }),
        ("static-bau", { _ in StaticBreaker(configuration: .bau) }),
        ("static-window", { environment in
            StaticWindowBreaker(
                configuration: try! .init(threshold: 20, windowNanoseconds: 1_000_000_000, openNanoseconds: 1_000_000_000, probes: 3),
                slotCapacity: environment.slotCapacity)
        }),
        ("semian-classic", { environment in SemianClassicBreaker(configuration: .shopify, slotCapacity: environment.slotCapacity) }),
        ("semian-classic-derived", { environment in SemianClassicBreaker(configuration: .derived, slotCapacity: environment.slotCapacity) }),
        ("semian-adaptive", { _ in SemianAdaptiveBreaker() }),
        ("semian-adaptive-ungated", { environment in
            SemianUngatedPingBreaker(configuration: .takeOne, slotCapacity: environment.slotCapacity)
        }),
        ("envoy-admission", { environment in EnvoyAdmissionControl(slo: environment.slo) }),
        ("sre-throttle", { _ in SREAdaptiveThrottle() }),
    ]

    @Test("A lane that admits in bulk counts exactly what calling the candidate per arrival counts",
          arguments: cases.map(\.0))
    func bulkMatchesOneByOne(identifier: String) throws {
        let make = try #require(Self.cases.first { $0.0 == identifier }).1
        let counter = BulkCounter()
        let bulk = descriptor("bulk", make: make) { CountingBulk(counting: $0, counter: counter) }
        let oneByOne = descriptor("one-by-one", make: make) { OneCallPerArrival(wrapping: $0) }
        for generator in GeneratorMode.allCases {
            let result = try OpenLoopBenchmark.run(OpenLoopConfiguration(
                scenario: scenario, slo: TestSupport.slo(), seeds: [11], candidates: [bulk, oneByOne],
                generator: generator, seriesSeed: 11, parallelism: 1))
            let seed = try #require(result.seedResults.first)
            var expected = try #require(seed.result(for: "one-by-one"))
            let actual = try #require(seed.result(for: "bulk"))
            expected.identifier = actual.identifier
            expected.name = actual.name
            #expect(actual == expected)
            let series = try #require(result.series)
            #expect(series.candidates[0].admittedPerSecond == series.candidates[1].admittedPerSecond)
            #expect(series.candidates[0].transitions == series.candidates[1].transitions)
            #expect(!series.candidates[0].transitions.isEmpty)
        }
        // Not vacuous: the lane did admit in bulk, and the candidate did change state.
        #expect(counter.admissions.load(ordering: .relaxed) > 100)
    }

    /// Wraps the factory's candidate (opened from its existential) in `wrap`.
    private func descriptor<Wrapped: BenchmarkCandidate>(
        _ identifier: String, make: @escaping @Sendable (CandidateEnvironment) -> any BenchmarkCandidate,
        wrap: @escaping @Sendable (any BenchmarkCandidate) -> Wrapped
    ) -> CandidateDescriptor {
        CandidateDescriptor(identifier: identifier, displayName: identifier, summary: "test") { environment in
            wrap(make(environment))
        }
    }

    @Test("Marking consecutive slots admitted wraps at the table's end and sets nothing else")
    func setAdmittedWraps() {
        for capacity in [16, 64, 256] {
            let tables = LaneTables(slotCapacity: capacity, secondCount: 1)
            for (first, count) in [(0, 0), (3, 1), (capacity - 5, 9), (60 % capacity, 70), (1, capacity)] {
                for word in 0..<tables.wordCount { tables.admittedBits[word] = 0 }
                tables.setAdmitted(firstSlot: first, count: count)
                for slot in 0..<capacity {
                    let expected = (slot - first + capacity) % capacity < min(count, capacity)
                    let isSet = tables.admittedBits[slot >> 6] & (1 << UInt64(slot & 63)) != 0
                    #expect(isSet == expected, "capacity \(capacity), first \(first), count \(count), slot \(slot)")
                }
                // Bits past the capacity in the last word stay clear.
                if capacity < 64 { #expect(tables.admittedBits[0] >> UInt64(capacity) == 0) }
            }
        }
    }
}

private final class BulkCounter: Sendable {
    let admissions = Atomic<Int>(0)
}

/// Forwards everything, including the bulk-admission interface, and counts bulk admissions.
private struct CountingBulk: BenchmarkCandidate {
    var wrapped: any BenchmarkCandidate
    let counter: BulkCounter

    init(counting wrapped: any BenchmarkCandidate, counter: BulkCounter) {
        self.wrapped = wrapped
        self.counter = counter
    }

    static var admitsInBulk: Bool { true }
    var reportedState: LeveeState.Kind { wrapped.reportedState }
    var protocolErrors: Int { wrapped.protocolErrors }
    func wouldAdmitInBulk(_ count: Int, through instant: Int64) -> Bool { wrapped.wouldAdmitInBulk(count, through: instant) }
    mutating func admit(slot: Int, at instant: Int64) -> Bool { wrapped.admit(slot: slot, at: instant) }
    mutating func complete(slot: Int, succeeded: Bool, at instant: Int64) {
        wrapped.complete(slot: slot, succeeded: succeeded, at: instant)
    }
    mutating func recordBulkAdmissions(_ count: Int, through instant: Int64) {
        counter.admissions.add(count, ordering: .relaxed)
        wrapped.recordBulkAdmissions(count, through: instant)
    }
}

/// Forwards the calls but not the bulk-admission interface, so the lane calls it per arrival.
private struct OneCallPerArrival: BenchmarkCandidate {
    var wrapped: any BenchmarkCandidate

    init(wrapping wrapped: any BenchmarkCandidate) { self.wrapped = wrapped }

    var reportedState: LeveeState.Kind { wrapped.reportedState }
    var protocolErrors: Int { wrapped.protocolErrors }
    mutating func admit(slot: Int, at instant: Int64) -> Bool { wrapped.admit(slot: slot, at: instant) }
    mutating func complete(slot: Int, succeeded: Bool, at instant: Int64) {
        wrapped.complete(slot: slot, succeeded: succeeded, at: instant)
    }
}
