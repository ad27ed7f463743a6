/// Finds the best static breaker in hindsight: the ``StaticWindowBreaker`` configuration that
/// scores best on training seeds of a scenario, to be evaluated afterwards on other seeds.
///
/// Procedure (deterministic: the same grid, seeds and objective give the same ranking):
/// 1. **Coarse.** Every configuration of the grid is scored by the objective, averaged over the
///    training seeds.
/// 2. **Refine** (`refinementRounds` times). Around the best configuration so far, a grid of the
///    log-scale midpoints to its neighbours in every parameter (``StaticBreakerGrid/refined(around:)``,
///    up to 3⁴ configurations) is scored; configurations already scored are not run again. Each
///    round halves the step of the previous one.
///    With ``Refinement/axes`` only the configurations that differ from the best in one
///    parameter are scored (up to 8 per round instead of 80), for objectives too costly for
///    the full product, such as the closed loop.
/// 3. **Rank** everything scored, best first; ties keep the order of evaluation.
///
/// Configurations are scored `configurationsPerPass` at a time, as lanes of one stream pass:
/// each seed's stream is generated once per pass whatever the number of lanes, while memory
/// (about 1.2 MB of per-second counters per lane for a 28-hour scenario) stays bounded.
public struct StaticBreakerTuner: Sendable {
    public var grid: StaticBreakerGrid
    public var refinementRounds: Int
    public var configurationsPerPass: Int
    public var refinement: Refinement

    /// Which configurations of a refined grid a refinement round scores.
    public enum Refinement: String, Sendable, Hashable, Codable {
        /// The whole product: up to 3⁴ configurations, catching interactions between parameters.
        case product
        /// The best and the configurations one parameter away from it: up to 1 + 4 × 2, a
        /// coordinate step for objectives that cost seconds per configuration.
        case axes
    }

    public init(grid: StaticBreakerGrid = .standard, refinementRounds: Int = 1, configurationsPerPass: Int = 64,
                refinement: Refinement = .product) {
        self.grid = grid
        self.refinementRounds = max(0, refinementRounds)
        self.configurationsPerPass = max(1, configurationsPerPass)
        self.refinement = refinement
    }

    /// Scores the grid and its refinements on `seeds`.
    /// - Parameter progress: Called after every pass with the configurations scored so far and
    ///   those planned so far (refinement rounds add to the plan when they start).
    public func tune(
        objective: some TuningObjective, seeds: [UInt64], progress: ((_ scored: Int, _ planned: Int) -> Void)? = nil
    ) throws -> TuningResult {
        guard !seeds.isEmpty else { throw OpenLoopError.noSeeds }
        let clock = ContinuousClock()
        let started = clock.now
        var scored: [TuningResult.Entry] = []
        var seen = Set<StaticWindowBreaker.Configuration>()
        var planned = 0

        func score(_ configurations: [StaticWindowBreaker.Configuration], stage: Int) throws {
            let fresh = configurations.filter { seen.insert($0).inserted }
            planned += fresh.count
            var start = 0
            while start < fresh.count {
                let batch = Array(fresh[start..<min(start + configurationsPerPass, fresh.count)])
                let measurements = try objective.measure(batch.map(CandidateDescriptor.staticWindow), seeds: seeds)
                for (configuration, measurement) in zip(batch, measurements) {
                    scored.append(TuningResult.Entry(
                        configuration: configuration, score: measurement.score, crashes: measurement.crashes, stage: stage))
                }
                start += batch.count
                progress?(scored.count, planned)
            }
        }

        try score(grid.configurations, stage: 0)
        var refinementGrid = grid
        for round in 0..<refinementRounds {
            let best = Self.ranked(scored, direction: objective.direction)[0].configuration
            refinementGrid = refinementGrid.refined(around: best)
            let candidates = switch refinement {
            case .product: refinementGrid.configurations
            case .axes: refinementGrid.configurations.filter { $0.differingParameters(from: best) <= 1 }
            }
            try score(candidates, stage: round + 1)
        }
        let elapsed = started.duration(to: clock.now).components
        return TuningResult(
            scoreName: objective.scoreName, direction: objective.direction, seeds: seeds,
            ranked: Self.ranked(scored, direction: objective.direction),
            wallSeconds: Double(elapsed.seconds) + Double(elapsed.attoseconds) / 1e18)
    }

    /// Best first; NaN scores last; ties keep the order of evaluation.
    static func ranked(_ entries: [TuningResult.Entry], direction: TuningDirection) -> [TuningResult.Entry] {
        entries.enumerated().sorted { lhs, rhs in
            let (a, b) = (lhs.element.score, rhs.element.score)
            if a.isNaN != b.isNaN { return b.isNaN }
            if direction.prefers(a, over: b) { return true }
            if direction.prefers(b, over: a) { return false }
            return lhs.offset < rhs.offset
        }.map(\.element)
    }
}

/// What ``StaticBreakerTuner`` found.
public struct TuningResult: Sendable, Hashable, Codable {
    /// One scored configuration.
    public struct Entry: Sendable, Hashable, Codable {
        public var configuration: StaticWindowBreaker.Configuration
        /// The objective's score, averaged over the training seeds.
        public var score: Double
        /// Backend crashes summed over the training seeds, when the objective measures them.
        public var crashes: Int?
        /// 0 for the coarse grid, `k` for the k-th refinement round.
        public var stage: Int
    }

    public var scoreName: String
    public var direction: TuningDirection
    /// The training seeds.
    public var seeds: [UInt64]
    /// Every configuration scored, best first.
    public var ranked: [Entry]
    public var wallSeconds: Double

    /// The best configuration (the tuner always scores at least one).
    public var best: Entry { ranked[0] }
}
