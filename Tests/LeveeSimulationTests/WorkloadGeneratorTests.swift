import Testing
@testable import LeveeSimulation

@Suite("Load generator behaviour")
struct WorkloadGeneratorTests {
    static func phase(
        _ duration: Double, rpm: Int, errorRate: Double = 0.05, p50: Double = 100, p99: Double = 500,
        timeout: Double = 1_500, label: String = ""
    ) -> Phase {
        try! Phase(
            label: label, durationSeconds: duration, rpm: rpm, errorRate: errorRate, p50Milliseconds: p50,
            p99Milliseconds: p99, timeoutMilliseconds: timeout)
    }

    static func requests(_ scenario: Scenario, seed: UInt64, mode: GeneratorMode = .goCompatible) -> [GeneratedRequest] {
        var generator = LoadGenerator(scenario: scenario, seed: seed, mode: mode)
        var all: [GeneratedRequest] = []
        while let request = generator.next() { all.append(request) }
        return all
    }

    @Test("time starts at 0, arrivals never go back, the generator stays finished")
    func arrivalOrder() throws {
        let scenario = try Scenario(name: "t", phases: [Self.phase(5, rpm: 6_000), Self.phase(5, rpm: 60_000)])
        var generator = LoadGenerator(scenario: scenario, seed: 1)
        var previous: GeneratedRequest? = nil
        var count = 0
        while let request = generator.next() {
            if let previous {
                #expect(request.start >= previous.start)
                #expect(request.phaseIndex >= previous.phaseIndex)
            } else {
                #expect(request.start == 0)
            }
            previous = request
            count += 1
        }
        #expect(count > 0)
        #expect(generator.next() == nil)
        #expect(generator.next() == nil)
    }

    @Test("phase switches follow the Go overshoot rule exactly")
    func phaseSwitchRule() throws {
        let scenario = try Scenario(
            name: "t",
            phases: [Self.phase(2, rpm: 600), Self.phase(1, rpm: 60_000), Self.phase(3, rpm: 1_200)])
        for seed in UInt64(1)...20 {
            let requests = Self.requests(scenario, seed: seed)
            var actualStart: Int64 = 0
            var current: Int32 = 0
            for request in requests {
                let duration = scenario.phases[Int(current)].durationNanoseconds
                if request.phaseIndex != current {
                    // The first request of a phase is the first arrival at least one phase
                    // duration after the previous phase's actual start, and starts the next one.
                    #expect(request.phaseIndex == current + 1)
                    #expect(request.start - actualStart >= duration)
                    current = request.phaseIndex
                    actualStart = request.start
                } else {
                    #expect(request.start - actualStart < duration)
                }
            }
            #expect(current == 2)
            // The last phase ends one duration after its actual start, not at the nominal end.
            #expect(requests.last!.start - actualStart < scenario.phases[2].durationNanoseconds)
        }
    }

    @Test("the first request of a phase is timed with the previous phase's rate")
    func overshootUsesPreviousRate() throws {
        // 60 RPM (1 s mean gap) then 600,000 RPM (0.1 ms): the first fast request lands a
        // memoryless Exp(1 s) after the boundary, not 0.1 ms after it.
        let scenario = try Scenario(name: "t", phases: [Self.phase(10, rpm: 60), Self.phase(0.01, rpm: 600_000)])
        var overshoots: [Double] = []
        for seed in UInt64(1)...300 {
            var generator = LoadGenerator(scenario: scenario, seed: seed)
            while let request = generator.next() {
                if request.phaseIndex == 1 {
                    overshoots.append(Double(request.start - 10_000_000_000) / 1e9)
                    break
                }
            }
        }
        let mean = overshoots.reduce(0, +) / Double(overshoots.count)
        // Exp(1 s) mean over 300 samples: standard error 0.058 s.
        #expect(mean > 0.75 && mean < 1.25)
        #expect(overshoots.allSatisfy { $0 >= 0 })
    }

    @Test("request counts are within 1 % of RPM × minutes")
    func requestCounts() throws {
        let scenario = try Scenario(
            name: "t",
            phases: [Self.phase(300, rpm: 60_000), Self.phase(600, rpm: 30_000), Self.phase(120, rpm: 150_000)])
        for mode in GeneratorMode.allCases {
            var statistics = LoadStatistics(scenario: scenario)
            var generator = LoadGenerator(scenario: scenario, seed: 99, mode: mode)
            while let request = generator.next() { statistics.record(request) }
            for summary in statistics.summary() {
                #expect(abs(summary.requestCountDeviation) < 0.01, "\(mode) phase \(summary.phaseIndex)")
            }
        }
    }

    @Test("successes are clamped to 0.99 × timeout; errors are not; nothing is below p50/2")
    func durationBounds() throws {
        // A fat tail (p99 close to the timeout) puts many successes above 0.99 × timeout.
        let scenario = try Scenario(name: "t", phases: [Self.phase(60, rpm: 600_000, errorRate: 0.5, p50: 100, p99: 1_400)])
        var generator = LoadGenerator(scenario: scenario, seed: 3)
        let ceiling = Int64(0.99 * 1_500 * 1e6)
        var clamped = 0
        var errorsAboveCeiling = 0
        while let request = generator.next() {
            #expect(request.duration >= 50_000_000)
            #expect(request.duration <= 1_500_000_000)
            if request.isSuccess {
                #expect(request.duration <= ceiling)
                if request.duration == ceiling { clamped += 1 }
            } else if request.duration > ceiling {
                errorsAboveCeiling += 1
            }
        }
        #expect(clamped > 0)
        #expect(errorsAboveCeiling > 0)
    }

    @Test("same seed, same stream; different seed or mode, different stream")
    func determinism() throws {
        let scenario = try Scenario(name: "t", phases: [Self.phase(60, rpm: 6_000), Self.phase(60, rpm: 12_000)])
        let first = Self.requests(scenario, seed: 2024)
        #expect(first == Self.requests(scenario, seed: 2024))
        #expect(first != Self.requests(scenario, seed: 2025))
        let fast = Self.requests(scenario, seed: 2024, mode: .fast)
        #expect(fast == Self.requests(scenario, seed: 2024, mode: .fast))
        #expect(fast != first)
    }

    /// The stream draws requests in batches (`fill`), in two passes per run of one phase's
    /// requests; the result must be what `next()` gives one at a time, across phase changes,
    /// idle phases, tail latencies and clamped successes, for any batch size.
    @Test("batches are exactly the requests next() gives, in both modes, for any batch size", arguments: GeneratorMode.allCases)
    func batchesMatchSingleRequests(mode: GeneratorMode) throws {
        let scenario = try Scenario(name: "t", phases: [
            Self.phase(2, rpm: 30_000, errorRate: 0.3, p50: 20, p99: 1_000, timeout: 1_100),
            Self.phase(1, rpm: 0),
            Self.phase(0.5, rpm: 120_000, errorRate: 0.01, p50: 5, p99: 9, timeout: 10),
            Self.phase(3, rpm: 600, errorRate: 0.9),
            Self.phase(1, rpm: 90_000),
        ])
        let expected = Self.requests(scenario, seed: 31, mode: mode)
        #expect(expected.count > 3_000)
        #expect(Set(expected.map(\.phaseIndex)) == [0, 2, 3, 4])
        for batchSize in [1, 2, 7, 128, 1_000] {
            var generator = LoadGenerator(scenario: scenario, seed: 31, mode: mode)
            let buffer = UnsafeMutablePointer<GeneratedRequest>.allocate(capacity: batchSize)
            defer { buffer.deallocate() }
            var batched: [GeneratedRequest] = []
            while true {
                let count = generator.fill(buffer, capacity: batchSize)
                batched += UnsafeBufferPointer(start: buffer, count: count)
                if count < batchSize { break }
            }
            // The first difference, rather than both arrays, if there is one.
            let firstDifference = zip(batched, expected).enumerated().first { $0.element.0 != $0.element.1 }?.offset
            #expect(firstDifference == nil && batched.count == expected.count, "batches of \(batchSize)")
            #expect(generator.next() == nil)
        }
    }

    @Test("an idle phase produces no requests and the next phase starts at its end")
    func idlePhase() throws {
        let scenario = try Scenario(
            name: "t", phases: [Self.phase(1, rpm: 0), Self.phase(1, rpm: 60_000), Self.phase(2, rpm: 0), Self.phase(1, rpm: 60_000)])
        let requests = Self.requests(scenario, seed: 5)
        #expect(!requests.contains { $0.phaseIndex == 0 || $0.phaseIndex == 2 })
        let firstOfSecond = try #require(requests.first)
        #expect(firstOfSecond.phaseIndex == 1 && firstOfSecond.start == 1_000_000_000)
        let lastOfSecond = try #require(requests.last { $0.phaseIndex == 1 })
        let firstOfFourth = try #require(requests.first { $0.phaseIndex == 3 })
        // Phase 2 begins at the first arrival past phase 1's end and lasts 2 s; phase 3 then
        // starts exactly at phase 2's end.
        #expect(firstOfFourth.start >= 4_000_000_000)
        #expect(firstOfFourth.start - lastOfSecond.start > 2_000_000_000)
    }
}
