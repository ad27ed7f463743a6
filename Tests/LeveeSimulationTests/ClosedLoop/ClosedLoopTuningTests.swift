import Levee
import Testing
@testable import LeveeSimulation

@Suite("Closed loop: tuning a static breaker by mean Delta")
struct ClosedLoopTuningTests {
    static let second = TestSupport.second

    /// 20 s calm, 10 s at 10x traffic (an overload for one replica), 15 s calm: about 12,000 requests.
    static let scenario = TestSupport.scenario([(20, 6000, 0.005), (10, 60_000, 0.005), (15, 6000, 0.005)], name: "surge")

    static let base = ClosedLoopConfiguration(scenario: scenario, slo: TestSupport.slo(), parallelism: 2)

    /// A breaker that never trips against ones that trip early and late.
    static let grid = try! StaticBreakerGrid(
        thresholds: [20, 1_000_000], windowsNanoseconds: [second], opensNanoseconds: [second, 10 * second], probes: [2])

    @Test("The objective's score and crashes are those of ClosedLoopBenchmark run directly on the same specs")
    func matchesBenchmark() throws {
        let specs = "static(threshold=20,window=1s,open=1s,probes=2),static(threshold=1000000,window=1s,open=10s,probes=2)"
        let candidates = try CandidateDescriptor.parseList(specs)
        let seeds: [UInt64] = [1, 2]
        let measured = try ClosedLoopObjective(base: Self.base).measure(candidates, seeds: seeds)

        var direct = Self.base
        direct.candidates = candidates
        direct.seeds = seeds
        let result = try ClosedLoopBenchmark.run(direct)
        for (index, candidate) in candidates.enumerated() {
            let runs = result.seedResults.map { $0.result(for: candidate.identifier)! }
            #expect(measured[index].score == runs.map(\.delta).reduce(0, +) / 2)
            #expect(measured[index].crashes == runs.map(\.backend.crashes).reduce(0, +))
            #expect(result.aggregate(for: candidate.identifier)?[.delta]?.mean == measured[index].score)
        }
        // The two configurations behave differently, so the comparison above is not vacuous.
        #expect(measured[0].score != measured[1].score)
        #expect(try ClosedLoopObjective(base: Self.base).evaluate(candidates, seeds: seeds) == measured.map(\.score))
    }

    @Test("Tuning on the closed loop ranks by Delta, highest first, and carries each configuration's crashes")
    func ranksHighestDeltaFirst() throws {
        let objective = ClosedLoopObjective(base: Self.base)
        #expect(objective.direction == .maximize)
        let result = try StaticBreakerTuner(grid: Self.grid, refinementRounds: 0, configurationsPerPass: 3)
            .tune(objective: objective, seeds: [3])
        #expect(result.ranked.count == 4)
        #expect(result.direction == .maximize)
        let scores = result.ranked.map(\.score)
        #expect(scores == scores.sorted(by: >))
        #expect(Set(scores).count > 1)
        #expect(result.ranked.allSatisfy { $0.crashes != nil })
        // Every ranked entry is what the benchmark gives that configuration on its own.
        let recheck = try objective.measure(result.ranked.map { .staticWindow($0.configuration) }, seeds: [3])
        #expect(recheck.map(\.score) == scores)
        #expect(recheck.map(\.crashes) == result.ranked.map(\.crashes))
    }

    /// Scores a configuration by how close each parameter is to a known optimum on a log scale:
    /// minus the product of the ratios max(value/best, best/value), which orders configurations as
    /// the sum of the log distances does.
    struct Bowl: TuningObjective {
        var scoreName: String { "closeness" }
        var direction: TuningDirection { .maximize }
        func evaluate(_ candidates: [CandidateDescriptor], seeds: [UInt64]) throws -> [Double] {
            try candidates.map { candidate in
                let c = try StaticWindowBreaker.Configuration(spec: candidate.identifier)
                func ratio(_ value: Double, _ best: Double) -> Double { max(value / best, best / value) }
                return -(ratio(Double(c.threshold), 300) * ratio(Double(c.windowNanoseconds), 2e9)
                    * ratio(Double(c.openNanoseconds), 4e9) * ratio(Double(c.probes), 8))
            }
        }
    }

    @Test("Axis refinement moves one parameter at a time, at most 8 new configurations a round, towards the optimum")
    func axisRefinement() throws {
        let tuner = StaticBreakerTuner(grid: .closedLoop, refinementRounds: 2, configurationsPerPass: 8, refinement: .axes)
        let result = try tuner.tune(objective: Bowl(), seeds: [1])
        #expect(StaticBreakerGrid.closedLoop.count == 48)
        let coarse = result.ranked.filter { $0.stage == 0 }
        #expect(coarse.count == 48)
        let coarseBest = coarse[0].configuration
        for round in 1...2 {
            let entries = result.ranked.filter { $0.stage == round }
            #expect((1...8).contains(entries.count))
            let previousBest = result.ranked.filter { $0.stage < round }[0].configuration
            #expect(entries.allSatisfy { $0.configuration.differingParameters(from: previousBest) == 1 })
        }
        // Nearest the optimum on a log scale: 500 (×1.7 from 300), 3 s (×1.5 from 2 s), 5 s
        // (×1.25 from 4 s), 20 probes (×2.5 from 8, against ×4 for 2).
        #expect(coarseBest.threshold == 500 && coarseBest.windowNanoseconds == 3 * Self.second)
        #expect(coarseBest.openNanoseconds == 5 * Self.second && coarseBest.probes == 20)
        // Round 1's biggest gain is probes √(2·20) ≈ 6 (×1.33 from 8); round 2's, from the
        // round-1 thresholds 224, 500, 1118, is threshold √(224·500) ≈ 335 (×1.12 from 300).
        let firstRound = result.ranked.first { $0.stage == 1 }!
        #expect(firstRound.configuration.probes == 6 && firstRound.score > coarse[0].score)
        #expect(result.best.stage == 2)
        #expect(result.best.configuration.threshold == 335 && result.best.configuration.probes == 6)
        // The product refinement of the same grid would score up to 80 per round.
        #expect(StaticBreakerGrid.closedLoop.refined(around: coarseBest).count > 8)
    }

    @Test("The closed-loop winner ships as static-hindsight-closed, a default closed-loop candidate")
    func builtInWinner() throws {
        let named = try CandidateDescriptor.parseList("static-hindsight-closed")
        #expect(named == [.staticHindsightClosed])
        #expect(named[0].displayName == "Static-Hindsight-Closed")
        #expect(CandidateDescriptor.closedLoopDefaults.contains(.staticHindsightClosed))
        // It is the configuration its documentation names, under its own identifier.
        let spec = try StaticWindowBreaker.Configuration(spec: "static(threshold=13,window=1225ms,open=1s,probes=2)")
        var direct = Self.base
        direct.candidates = [.staticHindsightClosed, .staticWindow(spec)]
        let result = try ClosedLoopBenchmark.run(direct)
        let runs = result.seedResults[0].candidates
        #expect(runs[0].delta == runs[1].delta && runs[0].blocked == runs[1].blocked)
    }
}
