public import Levee

/// Whether a tuning objective's scores are better low (a penalty) or high (a goodput delta).
public enum TuningDirection: String, Sendable, Hashable, Codable {
    case minimize, maximize

    /// Whether `lhs` is strictly better than `rhs`.
    public func prefers(_ lhs: Double, over rhs: Double) -> Bool {
        self == .minimize ? lhs < rhs : lhs > rhs
    }
}

/// Scores candidates for a tuner. The open loop scores by mean TotalPenalty
/// (``OpenLoopTuningObjective``); a closed-loop benchmark can plug in its own score (for example
/// maximising its goodput delta) without the tuner changing.
public protocol TuningObjective: Sendable {
    /// What a score is, for reports: "mean TotalPenalty (open loop)".
    var scoreName: String { get }
    var direction: TuningDirection { get }
    /// One score per candidate, in the order given, each averaged over `seeds`. Every candidate
    /// must see the same streams, so that scores differ only by the candidates' decisions.
    func evaluate(_ candidates: [CandidateDescriptor], seeds: [UInt64]) throws -> [Double]
    /// Like ``evaluate(_:seeds:)``, with side measures the ranking should show next to each
    /// score (a closed loop's backend crashes). Defaults to the scores alone.
    func measure(_ candidates: [CandidateDescriptor], seeds: [UInt64]) throws -> [TuningMeasurement]
}

/// One candidate's score and the side measures a report shows next to it.
public struct TuningMeasurement: Sendable, Hashable, Codable {
    /// The objective's score, averaged over the training seeds.
    public var score: Double
    /// Backend crashes summed over the training seeds, for objectives whose benchmark has a
    /// backend that can crash (nil otherwise). Not part of the score: a configuration that
    /// crashes the backend is ranked by its score, and the crashes are shown beside it.
    public var crashes: Int?

    public init(score: Double, crashes: Int? = nil) {
        self.score = score
        self.crashes = crashes
    }
}

extension TuningObjective {
    public func measure(_ candidates: [CandidateDescriptor], seeds: [UInt64]) throws -> [TuningMeasurement] {
        try evaluate(candidates, seeds: seeds).map { TuningMeasurement(score: $0) }
    }
}

/// The open-loop benchmark as a tuning objective: the mean TotalPenalty over the seeds (lower is
/// better). One call is one ``OpenLoopBenchmark/run(_:progress:report:)``: every candidate is a
/// lane on the same stream, so the stream of each seed is generated once per call, and the
/// benchmark spreads seeds and lanes over `parallelism` threads.
public struct OpenLoopTuningObjective: TuningObjective {
    public var scenario: Scenario
    public var slo: SLO
    public var generator: GeneratorMode
    public var parallelism: Int

    public init(scenario: Scenario, slo: SLO, generator: GeneratorMode = .goCompatible,
                parallelism: Int = OpenLoopBenchmark.availableCores) {
        self.scenario = scenario
        self.slo = slo
        self.generator = generator
        self.parallelism = max(1, parallelism)
    }

    public var scoreName: String { "mean TotalPenalty (open loop)" }
    public var direction: TuningDirection { .minimize }

    public func evaluate(_ candidates: [CandidateDescriptor], seeds: [UInt64]) throws -> [Double] {
        try results(candidates, seeds: seeds).map(\.totalPenalty)
    }

    /// The mean penalties of each candidate over the seeds, in the order given.
    public func results(_ candidates: [CandidateDescriptor], seeds: [UInt64]) throws(OpenLoopError) -> [PenaltyScore] {
        let configuration = OpenLoopConfiguration(
            scenario: scenario, slo: slo, seeds: seeds, candidates: candidates, generator: generator,
            seriesSeed: nil, parallelism: parallelism)
        let result = try OpenLoopBenchmark.run(configuration)
        return candidates.map { candidate in
            var bad = 0.0
            var lost = 0.0
            for seed in result.seedResults {
                // Every lane reports for every seed; a missing one would be a harness bug.
                let scored = seed.result(for: candidate.identifier)!
                bad += scored.badTraffic
                lost += scored.lostBusiness
            }
            let count = Double(result.seedResults.count)
            return PenaltyScore(badTraffic: bad / count, lostBusiness: lost / count)
        }
    }
}
