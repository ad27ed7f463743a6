/// Generates a scenario's requests in arrival order, reproducing Go's `loadgen` exactly.
///
/// Per request, from one random generator and in this order (the fast mode takes the third
/// variate from the first draw, see ``GeneratorMode/fast``):
/// 1. the gap to the *next* arrival: an exponential variate times the phase's mean gap
///    (`60·10⁹ / rpm` ns), truncated to whole nanoseconds; the current request's time is the
///    clock *before* the gap is added, so the first request is at 0;
/// 2. a uniform x mapped through the phase's ``LatencyDistribution``;
/// 3. a uniform u: the request succeeds iff `u >= errorRate`;
/// 4. successes are clamped to `0.99 × timeout`; the latency is truncated to whole nanoseconds.
///
/// Phases switch when the next arrival is at least one phase duration past the phase's
/// (actual) start; the new phase starts at that arrival. So the first request of a phase was
/// timed with the previous phase's rate, and each boundary drifts by one overshoot. At most one
/// switch happens per request, as in Go. A phase with `rpm == 0` is idle: no request arrives in
/// it and the pending arrival moves to its end (Go has no defined behaviour there).
public struct LoadGenerator: Sendable {
    /// The workload being played.
    public let scenario: Scenario
    /// The generator that draws the variates.
    public let mode: GeneratorMode

    private var state: GeneratorState
    // Both sources are stored and the mode picks one per request, so each mode gets its own
    // specialised copy of the per-request code (a shared `next()` that branched per draw
    // was if-converted by the optimiser into computing both generators every time).
    private var pcg: GoPCG
    private var xoshiro: Xoshiro256PlusPlus

    /// - Parameters:
    ///   - scenario: the phases to play; each must satisfy ``Phase``'s validation.
    ///   - seed: in Go-compatible mode, seeds PCG as `(seed, seed >> 32)` like the Go loadgen;
    ///     in fast mode, seeds xoshiro256++ through SplitMix64.
    ///   - mode: Go-compatible (bit-identical to Go) or fast (statistically equivalent).
    public init(scenario: Scenario, seed: UInt64, mode: GeneratorMode = .goCompatible) {
        precondition(!scenario.phases.isEmpty, "a scenario needs at least one phase")
        for (index, phase) in scenario.phases.enumerated() {
            // Phase's properties are mutable; catch a phase made invalid after validation here
            // rather than with a trap deep in the hot path.
            if let problem = phase.validationError {
                preconditionFailure("phase \(index) of \(scenario.name) is invalid: \(problem)")
            }
        }
        self.scenario = scenario
        self.mode = mode
        self.state = GeneratorState(plans: scenario.phases.map(PhasePlan.init))
        self.pcg = GoPCG(goLoadgenSeed: seed)
        self.xoshiro = Xoshiro256PlusPlus(seed: seed)
    }

    /// The next request in arrival order, or `nil` once the last phase's time is used up.
    public mutating func next() -> GeneratedRequest? {
        switch mode {
        case .goCompatible: state.next(using: &pcg)
        case .fast: state.next(using: &xoshiro)
        }
    }

    /// Writes up to `capacity` next requests to `buffer` and returns how many (fewer only at
    /// the end of the scenario). Same sequence as calling ``next()`` repeatedly, but with the
    /// per-call overhead paid once per batch.
    mutating func fill(_ buffer: UnsafeMutablePointer<GeneratedRequest>, capacity: Int) -> Int {
        switch mode {
        case .goCompatible: state.fill(buffer, capacity: capacity, using: &pcg)
        case .fast: state.fill(buffer, capacity: capacity, using: &xoshiro)
        }
    }

    /// The index of the phase the generator is in (`phases.count` once finished).
    public var currentPhaseIndex: Int { state.phaseIndex }
}

/// The generator's position in the scenario, independent of the random source.
struct GeneratorState: Sendable {
    private let plans: [PhasePlan]
    private(set) var phaseIndex = 0
    private var phaseStart: Int64 = 0
    private var nextArrival: Int64 = 0
    /// The current phase's plan, cached so the hot path does no array access.
    private var plan: PhasePlan

    init(plans: [PhasePlan]) {
        self.plans = plans
        self.plan = plans[0]
    }

    /// Two passes per run of requests from one phase: the first draws the variates and the
    /// arrival times, the second turns the latency uniforms into durations. The quantile's
    /// division takes longer than the rest of a request, and in one pass each request waited
    /// for its own; in a pass of their own the divisions of many requests overlap.
    @inline(__always)
    mutating func fill<Random: RequestVariateSource>(
        _ buffer: UnsafeMutablePointer<GeneratedRequest>, capacity: Int, using random: inout Random
    ) -> Int {
        // A local copy of the generator stays in registers; `random` itself is memory.
        var local = random
        defer { random = local }
        var count = 0
        while count < capacity {
            // The phase check, as in Go, before anything is drawn.
            if nextArrival &- phaseStart >= plan.durationNanoseconds || plan.isIdle {
                guard advancePhase() else { break }
            }
            let first = count
            let phase = Int32(truncatingIfNeeded: phaseIndex)
            repeat {
                let variates = local.requestVariates()
                // Until the second pass, `duration` holds the latency uniform's bits.
                buffer[count] = GeneratedRequest(
                    start: nextArrival, duration: Int64(bitPattern: variates.latency.bitPattern),
                    isSuccess: variates.outcome >= plan.errorRate, phaseIndex: phase)
                nextArrival &+= Int64(variates.exponential * plan.meanGapNanoseconds)
                count &+= 1
            } while count < capacity && nextArrival &- phaseStart < plan.durationNanoseconds
            for index in first..<count {
                let uniform = Double(bitPattern: UInt64(bitPattern: buffer[index].duration))
                buffer[index].duration = plan.durationNanoseconds(uniform: uniform, isSuccess: buffer[index].isSuccess)
            }
        }
        return count
    }

    /// One request: a batch of one, so that Go's rules (the phase check before anything is
    /// drawn, the order of the draws) are written once, in ``fill(_:capacity:using:)``.
    @inline(__always)
    mutating func next<Random: RequestVariateSource>(using random: inout Random) -> GeneratedRequest? {
        var request = GeneratedRequest(start: 0, duration: 0, isSuccess: false, phaseIndex: 0)
        return fill(&request, capacity: 1, using: &random) == 1 ? request : nil
    }

    /// Moves to the phase the pending arrival belongs to; `false` when the scenario is over.
    /// Out of line: it runs once per phase, and keeping it out keeps `next()` small.
    @inline(never)
    private mutating func advancePhase() -> Bool {
        while true {
            if plan.isIdle {
                // No arrivals during an idle phase: the pending one is deferred to its end.
                nextArrival = max(nextArrival, phaseStart &+ plan.durationNanoseconds)
            }
            if nextArrival &- phaseStart >= plan.durationNanoseconds {
                guard phaseIndex + 1 < plans.count else {
                    phaseIndex = plans.count
                    plan = .finished
                    return false
                }
                phaseIndex += 1
                phaseStart = nextArrival
                plan = plans[phaseIndex]
                // Go switches at most once per request; only idle phases are skipped over.
                if !plan.isIdle { return true }
            } else {
                return true
            }
        }
    }
}

/// The three variates of a request: an exponential for the gap to the next arrival, and uniforms
/// in [0, 1) for the latency quantile and the outcome.
protocol RequestVariateSource: RandomNumberGenerator {
    mutating func requestVariates() -> (exponential: Double, latency: Double, outcome: Double)
}

extension GoPCG: RequestVariateSource {
    /// Three draws in Go's order: `ExpFloat64`, then `Float64` twice.
    @inline(__always)
    mutating func requestVariates() -> (exponential: Double, latency: Double, outcome: Double) {
        let exponential = goExpFloat64()
        let latency = goFloat64()
        return (exponential, latency, goFloat64())
    }
}

extension Xoshiro256PlusPlus: RequestVariateSource {
    /// Two draws: the ziggurat reads only the low 40 bits of its first one, so the top 24 give
    /// the outcome's uniform (a resolution of 6·10⁻⁸, far finer than any error rate needs).
    @inline(__always)
    mutating func requestVariates() -> (exponential: Double, latency: Double, outcome: Double) {
        let (exponential, spare) = goExpFloat64WithSpareBits()
        let latency = goFloat64()
        return (exponential, latency, Double(spare) * 0x1p-24)
    }
}

/// A phase's constants in the form the hot path uses them.
struct PhasePlan: Sendable {
    var durationNanoseconds: Int64
    /// `60·10⁹ / rpm`, computed as Go does; infinite for an idle phase.
    var meanGapNanoseconds: Double
    var errorRate: Double
    var latency: LatencyDistribution
    var successCeilingMilliseconds: Double
    var isIdle: Bool

    init(_ phase: Phase) {
        durationNanoseconds = phase.durationNanoseconds
        meanGapNanoseconds = (60.0 * 1e9) / Double(phase.rpm)
        errorRate = phase.errorRate
        latency = phase.latency
        successCeilingMilliseconds = 0.99 * phase.timeoutMilliseconds
        isIdle = phase.rpm == 0
    }

    private init() {
        durationNanoseconds = 0
        meanGapNanoseconds = .infinity
        errorRate = 0
        latency = LatencyDistribution(p50Milliseconds: 1, p99Milliseconds: 2, timeoutMilliseconds: 3)
        successCeilingMilliseconds = 0
        isIdle = true
    }

    /// Past the last phase: an idle plan of zero length, so every check ends the scenario.
    static let finished = PhasePlan()

    /// A request's latency in whole nanoseconds, from its latency uniform and outcome.
    @inline(__always)
    func durationNanoseconds(uniform: Double, isSuccess: Bool) -> Int64 {
        let sampled = latency.quantile(uniform)
        // Go clamps successes above the ceiling. Written as two selects rather than a branch:
        // the outcome is a coin flip in the error-heavy phases and would mispredict.
        let ceiling = isSuccess ? successCeilingMilliseconds : .infinity
        let clamped = sampled < ceiling ? sampled : ceiling
        return Int64(clamped * 1e6)
    }
}
