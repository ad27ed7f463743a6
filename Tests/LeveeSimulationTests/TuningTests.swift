import Levee
import Testing
@testable import LeveeSimulation

@Suite("Best static in hindsight: grid, refinement and tuner")
struct TuningTests {
    static let second = TestSupport.second

    /// 100 calls/s: 20 s healthy, a 5 s total outage, 60 s healthy. Without healthy errors no
    /// threshold trips falsely, so the answer is derivable: a low threshold catches the outage
    /// (a high one never trips and admits all of it, BadTraffic ≈ 100·√5 ≈ 224), and only a
    /// short open duration avoids blocking healthy traffic afterwards (30 s open loses about
    /// 25 s of it, LostBusiness ≈ 100·√25 = 500; 1 s open loses at most about a second's worth).
    static let incidentScenario = TestSupport.scenario([
        (seconds: 20, rpm: 6_000, errorRate: 0), (seconds: 5, rpm: 6_000, errorRate: 1), (seconds: 60, rpm: 6_000, errorRate: 0),
    ], name: "incident")

    static let incidentGrid = try! StaticBreakerGrid(
        thresholds: [3, 1_000], windowsNanoseconds: [second], opensNanoseconds: [30 * second, second], probes: [1, 5])

    func objective() -> OpenLoopTuningObjective {
        OpenLoopTuningObjective(scenario: Self.incidentScenario, slo: TestSupport.slo(), generator: .fast, parallelism: 2)
    }

    @Test("The standard grid is the product it describes, threshold slowest and probes fastest, without repeats")
    func standardGrid() {
        let grid = StaticBreakerGrid.standard
        #expect(grid.thresholds == [3, 10, 30, 100, 300])
        #expect(grid.windowsNanoseconds == [300_000_000, 1_000_000_000, 3_000_000_000, 10_000_000_000])
        #expect(grid.opensNanoseconds == [1, 3, 10, 30].map { $0 * Self.second })
        #expect(grid.probes == [1, 5])
        let all = grid.configurations
        #expect(grid.count == 160)
        #expect(all.count == 160)
        #expect(Set(all).count == 160)
        #expect(all.first == (try! StaticWindowBreaker.Configuration(threshold: 3, windowNanoseconds: 300_000_000, openNanoseconds: Self.second, probes: 1)))
        #expect(all[1].probes == 5)
        #expect(all.last == (try! StaticWindowBreaker.Configuration(threshold: 300, windowNanoseconds: 10 * Self.second, openNanoseconds: 30 * Self.second, probes: 5)))
    }

    @Test("Grids sort and de-duplicate, and refuse empty or invalid lists")
    func gridValidation() throws {
        let grid = try StaticBreakerGrid(thresholds: [10, 3, 10], windowsNanoseconds: [Self.second], opensNanoseconds: [Self.second], probes: [2, 1])
        #expect(grid.thresholds == [3, 10])
        #expect(grid.probes == [1, 2])
        #expect(grid.count == 4)
        #expect(throws: CandidateSpecError.self) {
            try StaticBreakerGrid(thresholds: [], windowsNanoseconds: [Self.second], opensNanoseconds: [Self.second], probes: [1])
        }
        #expect(throws: CandidateSpecError.self) {
            try StaticBreakerGrid(thresholds: [0], windowsNanoseconds: [Self.second], opensNanoseconds: [Self.second], probes: [1])
        }
        #expect(throws: CandidateSpecError.self) {
            try StaticBreakerGrid(thresholds: [3], windowsNanoseconds: [0], opensNanoseconds: [Self.second], probes: [1])
        }
    }

    @Test("Refinement takes the log-scale midpoints to the neighbours, mirrors the step at an edge, and halves it next round")
    func refinement() throws {
        let grid = StaticBreakerGrid.standard
        let center = try StaticWindowBreaker.Configuration(threshold: 30, windowNanoseconds: 300_000_000, openNanoseconds: 30 * Self.second, probes: 1)
        let refined = grid.refined(around: center)
        // √(10·30) ≈ 17.3, √(30·100) ≈ 54.8.
        #expect(refined.thresholds == [17, 30, 55])
        // Lower edge: √(0.3·1) s ≈ 548 ms above, mirrored 0.3/√(1/0.3) ≈ 164 ms below.
        #expect(refined.windowsNanoseconds == [164_000_000, 300_000_000, 548_000_000])
        // Upper edge: √(10·30) ≈ 17.3 s below, 30·√3 ≈ 52 s above.
        #expect(refined.opensNanoseconds == [17_321_000_000, 30_000_000_000, 51_962_000_000])
        // √5 ≈ 2.2 rounds to 2; the mirrored 1/√5 rounds to 0 and is dropped.
        #expect(refined.probes == [1, 2])
        #expect(refined.configurations.contains(center))
        let again = refined.refined(around: center)
        // Half the step: √(17·30) ≈ 22.6, √(30·55) ≈ 40.6.
        #expect(again.thresholds == [23, 30, 41])
    }

    @Test("The tuner finds the derivable best: a low threshold and the short open duration")
    func findsKnownBest() throws {
        let result = try StaticBreakerTuner(grid: Self.incidentGrid, refinementRounds: 0, configurationsPerPass: 3)
            .tune(objective: objective(), seeds: [1, 2])
        #expect(result.ranked.count == 8)
        #expect(result.seeds == [1, 2])
        #expect(result.best.configuration.threshold == 3)
        #expect(result.best.configuration.openNanoseconds == Self.second)
        // The runner-up differs only in probes; everything after is clearly worse.
        #expect(result.ranked[1].configuration.threshold == 3 && result.ranked[1].configuration.openNanoseconds == Self.second)
        #expect(result.ranked[2].score > 1.5 * result.ranked[1].score)
        // A threshold of 1,000 never trips: all of the outage is admitted, whatever the open duration.
        let neverTrips = result.ranked.filter { $0.configuration.threshold == 1_000 }
        #expect(neverTrips.count == 4)
        #expect(Set(neverTrips.map(\.score)).count == 1)
        #expect(abs(neverTrips[0].score - 100 * 5.0.squareRoot()) < 0.2 * 100 * 5.0.squareRoot())
        // Staying open 30 s after a 5 s outage costs the most.
        let longOpen = result.ranked.filter { $0.configuration.threshold == 3 && $0.configuration.openNanoseconds == 30 * Self.second }
        #expect(longOpen.allSatisfy { $0.score > 400 })
        #expect(result.ranked.suffix(2).allSatisfy { longOpen.contains($0) })
    }

    @Test("Refinement rounds score only new configurations, and tuning is deterministic")
    func refinementAndDeterminism() throws {
        let tuner = StaticBreakerTuner(grid: Self.incidentGrid, refinementRounds: 1, configurationsPerPass: 16)
        var reports: [(Int, Int)] = []
        let first = try tuner.tune(objective: objective(), seeds: [3]) { reports.append(($0, $1)) }
        let second = try tuner.tune(objective: objective(), seeds: [3])
        #expect(first.ranked == second.ranked)
        #expect(Set(first.ranked.map(\.configuration)).count == first.ranked.count)
        let refinedEntries = first.ranked.filter { $0.stage == 1 }
        #expect(!refinedEntries.isEmpty)
        #expect(first.ranked.count == 8 + refinedEntries.count)
        #expect(reports.last.map { $0.0 == first.ranked.count && $0.1 == first.ranked.count } == true)
        // The refined best is at least as good as the coarse best.
        let coarseBest = first.ranked.first { $0.stage == 0 }!
        #expect(first.best.score <= coarseBest.score)
    }

    @Test("Maximising objectives rank highest first; NaN ranks last")
    func direction() throws {
        struct Fake: TuningObjective {
            var scoreName: String { "threshold" }
            var direction: TuningDirection
            func evaluate(_ candidates: [CandidateDescriptor], seeds: [UInt64]) throws -> [Double] {
                try candidates.map { candidate in
                    let threshold = try StaticWindowBreaker.Configuration(spec: candidate.identifier).threshold
                    return threshold == 4 ? .nan : Double(threshold)
                }
            }
        }
        let grid = try StaticBreakerGrid(thresholds: [1, 2, 3, 4], windowsNanoseconds: [Self.second], opensNanoseconds: [Self.second], probes: [1])
        let tuner = StaticBreakerTuner(grid: grid, refinementRounds: 0)
        let up = try tuner.tune(objective: Fake(direction: .maximize), seeds: [1])
        #expect(up.ranked.map(\.configuration.threshold) == [3, 2, 1, 4])
        let down = try tuner.tune(objective: Fake(direction: .minimize), seeds: [1])
        #expect(down.ranked.map(\.configuration.threshold) == [1, 2, 3, 4])
        #expect(throws: OpenLoopError.self) { try tuner.tune(objective: Fake(direction: .minimize), seeds: []) }
    }
}
