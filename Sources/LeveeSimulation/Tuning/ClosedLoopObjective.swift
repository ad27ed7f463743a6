/// The closed-loop benchmark as a tuning objective: the mean epoch Delta over the seeds (higher
/// is better), with the backend's crashes reported beside it.
///
/// One call is one ``ClosedLoopBenchmark/run(_:progress:report:)`` of the base configuration
/// with its candidates and seeds replaced: every candidate drives its own backend on every
/// seed, and the runs are spread over the base configuration's worker threads. A configuration
/// that crashes the backend keeps its Delta as its score (the crash already costs it the
/// failures and rejections it caused); its crashes are measured so the ranking can show them.
public struct ClosedLoopObjective: TuningObjective {
    /// Everything but the candidates and seeds: scenario, SLO, backend, clients, instances,
    /// scales and worker threads.
    public var base: ClosedLoopConfiguration

    public init(base: ClosedLoopConfiguration) {
        self.base = base
    }

    public var scoreName: String { "mean Delta (closed loop)" }
    public var direction: TuningDirection { .maximize }

    public func evaluate(_ candidates: [CandidateDescriptor], seeds: [UInt64]) throws -> [Double] {
        try measure(candidates, seeds: seeds).map(\.score)
    }

    public func measure(_ candidates: [CandidateDescriptor], seeds: [UInt64]) throws -> [TuningMeasurement] {
        let result = try run(candidates, seeds: seeds)
        return candidates.map { candidate in
            var delta = 0.0
            var crashes = 0
            for seed in result.seedResults {
                // Every candidate reports on every seed; a missing one would be a harness bug.
                let scored = seed.result(for: candidate.identifier)!
                delta += scored.delta
                crashes += scored.backend.crashes
            }
            return TuningMeasurement(score: delta / Double(result.seedResults.count), crashes: crashes)
        }
    }

    /// The closed-loop run the scores come from.
    public func run(_ candidates: [CandidateDescriptor], seeds: [UInt64]) throws(ClosedLoopError) -> ClosedLoopResult {
        var configuration = base
        configuration.candidates = candidates
        configuration.seeds = seeds
        return try ClosedLoopBenchmark.run(configuration)
    }
}
