extension CommonRandom.Purpose {
    /// The gap after an exogenous arrival, keyed by the arrival's index (the runner's draw).
    static let arrivalGap = CommonRandom.Purpose(salt: 0x6172_7269_7661_6C01)
    /// A retry's back-off jitter, keyed by the attempt's request identity (the runner's draw).
    static let retryJitter = CommonRandom.Purpose(salt: 0x6A69_7474_6572_0102)
}

/// The exogenous demand: Poisson arrivals at each phase's RPM, whatever the candidates do.
///
/// Phases switch as in the original's dispatcher (and the load generator): when the pending
/// arrival is at least one phase duration past the phase's actual start, the next phase
/// starts at that arrival, so each boundary drifts by one overshoot. Each gap is an
/// exponential variate drawn from common random numbers keyed by the arrival's index, so the
/// sequence depends on the seed and the scenario only. The exponential is Go's ziggurat (a
/// few nanoseconds instead of a logarithm per arrival).
struct ExogenousDemand {
    private struct Plan {
        var durationNanoseconds: Int64
        /// `60·10⁹ / rpm`; infinite for an idle phase.
        var meanGapNanoseconds: Double
        var isIdle: Bool
    }

    private let plans: [Plan]
    private let seed: UInt64
    private var phaseIndex = 0
    private var phaseStart: Int64 = 0
    /// The arrival after the pending one (before the phase check).
    private var following: Int64 = 0
    /// The pending arrival's time; `Int64.max` when the scenario is over.
    private(set) var nextTime: Int64 = .max
    /// The pending arrival's index (0-based).
    private(set) var nextIndex: UInt64 = 0

    init(scenario: Scenario, seed: UInt64) {
        plans = scenario.phases.map { phase in
            Plan(durationNanoseconds: phase.durationNanoseconds, meanGapNanoseconds: 60e9 / Double(phase.rpm), isIdle: phase.rpm == 0)
        }
        self.seed = seed
        nextIndex = 0
        prepare(index: 0)
    }

    /// Consumes the pending arrival and prepares the next one.
    @inline(__always)
    mutating func take() {
        prepare(index: nextIndex &+ 1)
    }

    @inline(__always)
    private mutating func prepare(index: UInt64) {
        var plan = plans[phaseIndex]
        if following &- phaseStart >= plan.durationNanoseconds || plan.isIdle {
            guard advancePhase() else {
                nextTime = .max
                return
            }
            plan = plans[phaseIndex]
        }
        nextTime = following
        nextIndex = index
        // The ziggurat needs a second word only about once in a hundred draws; a keyed stream
        // supplies it, so the gap is still a function of (seed, index) alone.
        var stream = KeyedStream(first: CommonRandom.bits(seed: seed, id: index, purpose: .arrivalGap))
        following &+= Int64(stream.goExpFloat64() * plan.meanGapNanoseconds)
    }

    /// Moves to the phase the pending arrival belongs to; `false` when the scenario is over.
    @inline(never)
    private mutating func advancePhase() -> Bool {
        while true {
            let plan = plans[phaseIndex]
            if plan.isIdle { following = max(following, phaseStart &+ plan.durationNanoseconds) }
            guard following &- phaseStart >= plan.durationNanoseconds else { return true }
            guard phaseIndex + 1 < plans.count else { return false }
            phaseIndex += 1
            phaseStart = following
            if !plans[phaseIndex].isIdle { return true }
        }
    }
}

/// A short random stream that starts with a given common-random-number word and continues
/// with SplitMix64 from it: for the rare draw that needs more than one word.
struct KeyedStream: RandomNumberGenerator {
    private var pending: UInt64?
    private var mixer: SplitMix64

    @inline(__always)
    init(first: UInt64) {
        pending = first
        mixer = SplitMix64(state: first)
    }

    @inline(__always)
    mutating func next() -> UInt64 {
        if let first = pending {
            pending = nil
            return first
        }
        return mixer.next()
    }
}
