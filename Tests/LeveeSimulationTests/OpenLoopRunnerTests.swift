import Foundation
import Levee
import Testing
@testable import LeveeSimulation

@Suite("Open loop: the runner end to end on short scenarios")
struct OpenLoopRunnerTests {
    let second = TestSupport.second

    /// 20 s calm, 6 s incident at 6x traffic, 4 s recovery, 20 s calm: about 5,900 requests.
    let scenario = TestSupport.scenario([(20, 3000, 0.005), (6, 18000, 0.6), (4, 9000, 0.02), (20, 3000, 0.005)], name: "short")

    func configuration(seeds: [UInt64] = [1], candidates: [CandidateDescriptor] = CandidateDescriptor.builtIn,
                       generator: GeneratorMode = .fast, seriesSeed: UInt64? = nil, parallelism: Int = 2) -> OpenLoopConfiguration {
        OpenLoopConfiguration(scenario: scenario, slo: TestSupport.slo(), seeds: seeds, candidates: candidates,
                              generator: generator, seriesSeed: seriesSeed, parallelism: parallelism)
    }

    @Test("Every candidate sees every request; the calibration identities hold; Prescient counts are real")
    func calibration() throws {
        let result = try OpenLoopBenchmark.run(configuration())
        let seed = try #require(result.seedResults.first)
        for candidate in seed.candidates {
            #expect(candidate.allowed + candidate.blocked == seed.requestCount, "\(candidate.name)")
            #expect(candidate.protocolErrors == 0)
        }
        let allowAll = try #require(seed.result(for: "allow-all"))
        let blockAll = try #require(seed.result(for: "block-all"))
        #expect(allowAll.lostBusiness == 0)
        #expect(allowAll.blocked == 0)
        #expect(allowAll.missedIncidents == 1)
        #expect(blockAll.badTraffic == 0)
        #expect(blockAll.allowed == 0)
        #expect(blockAll.missedIncidents == 0)
        #expect(seed.eventCount == 2 * seed.requestCount)

        // Count the incident's requests independently from the same stream.
        var stream = EventStream(generator: LoadGenerator(scenario: scenario, seed: 1, mode: .fast), scenario: scenario)
        var during = 0, total = 0
        while let event = stream.next() {
            guard event.kind == .start else { continue }
            total += 1
            if event.time >= 20 * second && event.time < 26 * second { during += 1 }
        }
        #expect(seed.requestCount == total)
        #expect(seed.prescient.requestsDuringIncidents == during)
        #expect(seed.prescient.timeProportionalEstimate < during)
        // About 6 s × 300 RPS in the incident.
        #expect(abs(during - 1800) < 200)
    }

    @Test("A candidate that decides every call alike gets the outcome a lane would have counted", arguments: [true, false])
    func fixedDecisionMatchesLane(admits: Bool) throws {
        // The same policy as AllowAll or BlockAll, but of a type the harness runs through a lane.
        let laned = CandidateDescriptor(identifier: "laned", displayName: "Laned", summary: "test") { _ in
            FixedPolicyThroughLane(admits: admits)
        }
        let fixed: CandidateDescriptor = admits ? .allowAll : .blockAll
        for parallelism in [1, 2] {
            let result = try OpenLoopBenchmark.run(configuration(
                seeds: [5], candidates: [.staticBAU, laned, fixed], seriesSeed: 5, parallelism: parallelism))
            let seed = try #require(result.seedResults.first)
            var expected = try #require(seed.result(for: "laned"))
            let derived = try #require(seed.result(for: fixed.identifier))
            expected.identifier = derived.identifier
            expected.name = derived.name
            #expect(derived == expected)
            #expect(derived.goodBlocked + derived.badAllowed > 0)
            let series = try #require(result.series)
            let lanedSeries = try #require(series.candidates.first { $0.identifier == "laned" })
            let derivedSeries = try #require(series.candidates.first { $0.identifier == fixed.identifier })
            #expect(derivedSeries.admittedPerSecond == lanedSeries.admittedPerSecond)
            #expect(derivedSeries.initialState == lanedSeries.initialState)
            #expect(derivedSeries.transitions.isEmpty)
            #expect(seed.candidates.map(\.identifier) == ["static-bau", "laned", fixed.identifier])
        }
    }

    @Test("The same seed gives the same results, whatever the grouping and thread count")
    func determinism() throws {
        let first = try OpenLoopBenchmark.run(configuration(seeds: [7, 8, 9], parallelism: 1))
        // Two seeds one per thread, then the third split over both threads.
        let second = try OpenLoopBenchmark.run(configuration(seeds: [7, 8, 9], parallelism: 2))
        let third = try OpenLoopBenchmark.run(configuration(seeds: [7, 8, 9], parallelism: 4))
        #expect(first.seedResults == second.seedResults)
        #expect(first.seedResults == third.seedResults)
        #expect(second.seedResults.map(\.seed) == [7, 8, 9])
        #expect(first.seedResults[0] != first.seedResults[1])
        #expect(first.aggregates == second.aggregates)
    }

    @Test("Several seeds: per-seed results in order and the mean with a confidence interval")
    func seeds() throws {
        let result = try OpenLoopBenchmark.run(configuration(seeds: [3, 4, 5], candidates: [.allowAll, .staticBAU]))
        #expect(result.seedResults.map(\.seed) == [3, 4, 5])
        #expect(result.aggregates.map(\.identifier) == ["allow-all", "static-bau"])
        let badTraffic = try #require(result.aggregates[0][.badTraffic])
        let values = result.seedResults.map { $0.candidates[0].badTraffic }
        #expect(abs(badTraffic.mean - values.reduce(0, +) / 3) < 1e-9)
        #expect(badTraffic.count == 3)
        #expect(badTraffic.halfWidth != nil)
    }

    @Test("Series: fixed per-second arrays consistent with the totals")
    func series() throws {
        let result = try OpenLoopBenchmark.run(configuration(seeds: [2], seriesSeed: 2))
        let series = try #require(result.series)
        let seed = result.seedResults[0]
        #expect(series.offeredPerSecond.count == OpenLoopBenchmark.secondCount(for: scenario))
        #expect(series.offeredPerSecond.reduce(0) { $0 + Int($1) } == seed.requestCount)
        #expect(series.candidates.map(\.identifier) == CandidateDescriptor.builtIn.map(\.identifier))
        for candidate in series.candidates {
            let allowed = try #require(seed.result(for: candidate.identifier)).allowed
            #expect(candidate.admittedPerSecond.reduce(0) { $0 + Int($1) } == allowed)
            #expect(zip(candidate.admittedPerSecond, series.offeredPerSecond).allSatisfy { $0 <= $1 })
        }
    }

    @Test("Go-compatible generation runs too (and differs from the fast generator)")
    func goGenerator() throws {
        let go = try OpenLoopBenchmark.run(configuration(seeds: [20_241_225], candidates: [.allowAll], generator: .goCompatible))
        let fast = try OpenLoopBenchmark.run(configuration(seeds: [20_241_225], candidates: [.allowAll], generator: .fast))
        #expect(go.seedResults[0].requestCount != fast.seedResults[0].requestCount)
        #expect(go.generator == "go")
    }

    @Test("Execution plans: one thread per seed when seeds suffice, otherwise candidate groups around the generating thread")
    func plans() {
        let single = OpenLoopBenchmark.ExecutionPlan(seeds: 1, candidates: CandidateDescriptor.builtIn, parallelism: 2)
        #expect(single.groups.count == 2)
        #expect(single.concurrentItems == 1)
        #expect(Set(single.groups.flatMap { $0.map(\.identifier) }) == Set(CandidateDescriptor.builtIn.map(\.identifier)))
        #expect(single.groups.flatMap { $0 }.count == CandidateDescriptor.builtIn.count)
        // The costliest candidate is kept off the generating thread.
        #expect(single.groups[1].contains(.levee))

        let many = OpenLoopBenchmark.ExecutionPlan(seeds: 5, candidates: CandidateDescriptor.builtIn, parallelism: 2)
        #expect(many.groups.count == 1)
        #expect(many.concurrentItems == 2)

        let alone = OpenLoopBenchmark.ExecutionPlan(seeds: 1, candidates: [.levee], parallelism: 2)
        #expect(alone.groups.map { $0.map(\.identifier) } == [[], ["levee"]])
    }

    @Test("A pipelined run (generator thread plus candidate threads) matches a single-threaded one")
    func pipelined() throws {
        let single = try OpenLoopBenchmark.run(configuration(seeds: [11], parallelism: 1))
        let pipelined = try OpenLoopBenchmark.run(configuration(seeds: [11], seriesSeed: 11, parallelism: 3))
        #expect(pipelined.parallelism == 3)
        #expect(single.seedResults == pipelined.seedResults)
        #expect(pipelined.series?.candidates.map(\.identifier) == CandidateDescriptor.builtIn.map(\.identifier))
    }

    @Test("The per-request tables are sized from the scenario and an overrun is reported, not ignored")
    func overrun() throws {
        #expect(try OpenLoopBenchmark.slotCapacity(for: .cyberMonday) == 16_384)
        #expect(try OpenLoopBenchmark.slotCapacity(for: scenario) == 2048)
        // 1,100 requests in flight at once with 1,024 slots.
        let requests = (0..<1100).map { TestSupport.Request(start: Int64($0), duration: 10 * second, success: true) }
        #expect(throws: OpenLoopError.self) {
            _ = try OpenLoopBenchmark.run(events: TestSupport.events(requests), scenario: scenario, slo: TestSupport.slo(),
                                          candidates: [.allowAll], slotCapacity: 1024)
        }
        let fits = try OpenLoopBenchmark.run(events: TestSupport.events(requests), scenario: scenario, slo: TestSupport.slo(),
                                             candidates: [.allowAll], slotCapacity: 2048)
        #expect(fits.result.requestCount == 1100)
    }

    @Test("A completion without a start is an error")
    func unmatchedCompletion() {
        let request = GeneratedRequest(start: 0, duration: 5, isSuccess: true, phaseIndex: 0)
        let events = [StreamEvent(kind: .success, requestID: 1, request: request)]
        #expect(throws: OpenLoopError.unmatchedCompletion(requestID: 1, time: 5)) {
            _ = try OpenLoopBenchmark.run(events: events, scenario: scenario, slo: TestSupport.slo(), candidates: [.allowAll])
        }
    }

    @Test("Candidate lists: identifiers, display names, 'all', and unknown names")
    func candidateLists() throws {
        #expect(try CandidateDescriptor.parseList("all") == CandidateDescriptor.builtIn)
        #expect(try CandidateDescriptor.parseList("static-peak, Static-BAU").map(\.identifier) == ["static-peak", "static-bau"])
        #expect(throws: OpenLoopError.self) { try CandidateDescriptor.parseList("levee,semian") }
        #expect(throws: OpenLoopError.noCandidates) { try CandidateDescriptor.parseList(" , ") }
    }

    @Test("JSON round trip keeps every column")
    func json() throws {
        let result = try OpenLoopBenchmark.run(configuration(seeds: [1, 2], candidates: [.staticPeak, .allowAll]))
        let data = try result.jsonData()
        let decoded = try BenchmarkResult(jsonData: data)
        #expect(decoded == result)
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(object["seeds"] as? [Int] == [1, 2])
        #expect(object["wallSeconds"] is Double)
        let seedResults = try #require(object["seedResults"] as? [[String: Any]])
        let candidates = try #require(seedResults[0]["candidates"] as? [[String: Any]])
        for key in ["allowed", "blocked", "badTraffic", "lostBusiness", "totalPenalty", "missedIncidents", "goodBlocked", "badAllowed", "transitions"] {
            #expect(candidates[0][key] != nil, "\(key)")
        }
        let prescient = try #require(seedResults[0]["prescient"] as? [String: Any])
        #expect(prescient["requestsDuringIncidents"] is Int)
        #expect(prescient["timeProportionalEstimate"] is Int)
    }
}

/// Admits or rejects every call, like the calibration candidates, without being one of them.
private struct FixedPolicyThroughLane: BenchmarkCandidate {
    let admits: Bool
    var reportedState: LeveeState.Kind { admits ? .closed : .open }
    mutating func admit(slot: Int, at instant: Int64) -> Bool { admits }
    mutating func complete(slot: Int, succeeded: Bool, at instant: Int64) {}
}
