public import Levee

/// Shopify Semian's adaptive (PID) circuit breaker as shipped in v0.28, modelled for the open loop.
///
/// Once per tick (`Δt` = 1 s):
/// 1. `e`: errors / (errors + successes) over the last 10 whole seconds, from ten fixed
///    per-second buckets keyed by completion instant; rejected calls are not counted; an empty
///    window reads 0.
/// 2. `ê`: an asymmetric exponential smoother of `e`, starting at 0.05. Observations above 0.10 are
///    discarded (and do not count as observations). α is 0.0017 when the observation is above `ê`
///    and 0.078 otherwise for the first 1,800 kept observations (30 minutes at 1 s), then
///    0.0009 / 0.039. The smoother is updated before `ê` is used in the same tick.
/// 3. `Δ = e − ê`, set to 0 when `0 < Δ ≤ 0.25·ê` (the dead zone).
/// 4. `P = Δ − (1 − Δ)·r`; `I ← I + P·Δt`; `D = kd·(P − P_prev)/Δt`;
///    `r ← clamp(r + kp·P + ki·I + D, 0, 1)`; then `I` is clamped to ±10 (after its use).
/// 5. Each arrival is rejected with probability `r`.
///
/// Ticks are lazy: the first event at or after each whole second of simulated time runs the ticks
/// due up to it, in order, before the event is handled. At most ``maximumCatchUpTicks`` are run
/// for one event; after a longer silence the remaining ticks are skipped (the window is empty by
/// then, so only the smoother's decay and `r`'s descent towards 0 are cut short).
///
/// Randomness: rejection draws a 53-bit uniform from ``Xoshiro256PlusPlus`` seeded with
/// ``randomSeed`` (fixed, so runs are reproducible). A draw is taken only while `0 < r < 1`; at
/// `r = 0` and `r = 1` the outcome is certain, as `rand < r` is in Semian.
///
/// Reported state: ``LeveeState/Kind/open`` when `r ≥ 1`, ``LeveeState/Kind/throttled`` when
/// `0 < r < 1`, ``LeveeState/Kind/closed`` when `r = 0`.
public struct SemianAdaptiveBreaker: BenchmarkCandidate, Sendable {
    /// The controller's parameters, with Semian v0.28's defaults.
    public struct Configuration: Sendable, Hashable {
        public var kp = 1.0
        public var ki = 0.2
        public var kd = 0.0
        /// `window_size`, in whole ticks (seconds).
        public var windowSeconds = 10
        public var initialErrorRate = 0.05
        /// `ideal_error_rate_estimator_cap_value`.
        public var idealErrorRateCap = 0.10
        public var deadZoneRatio = 0.25
        public var integralLowerCap = -10.0
        public var integralUpperCap = 10.0
        /// Smoother gains while fewer than ``lowConfidenceObservations`` have been kept.
        public var lowConfidenceAlphaUp = 0.0017
        public var lowConfidenceAlphaDown = 0.078
        public var alphaUp = 0.0009
        public var alphaDown = 0.039
        /// 30 minutes' worth of 1 s observations.
        public var lowConfidenceObservations = 1_800

        public init() {}

        public static let semian = Configuration()
    }

    /// The fixed seed of the rejection generator.
    public static let randomSeed: UInt64 = 0x5E31_A0D1_0028_0001
    /// The tick interval, `Δt` (1 s).
    public static let tickNanoseconds: Int64 = 1_000_000_000
    /// The most ticks one event catches up on.
    public static let maximumCatchUpTicks = 3_600

    public let configuration: Configuration
    /// The current rejection probability `r`.
    public private(set) var rejectionRate = 0.0
    /// The smoothed ideal error rate `ê`.
    public private(set) var idealErrorRate: Double
    /// The measured error rate `e` at the latest tick.
    public private(set) var errorRate = 0.0
    public private(set) var integral = 0.0
    public private(set) var previousP = 0.0
    /// Observations the smoother has kept.
    public private(set) var observations = 0
    /// Ticks run so far.
    public private(set) var ticks = 0
    public private(set) var protocolErrors = 0

    /// Tick k runs at the start of second k and covers seconds k−10 … k−1.
    private var ticker = SecondTicker(maximumCatchUp: SemianAdaptiveBreaker.maximumCatchUpTicks)
    /// Completions per second (successes, errors), keyed by completion instant.
    private var window: SecondBuckets
    private var generator = Xoshiro256PlusPlus(seed: SemianAdaptiveBreaker.randomSeed)

    public init(configuration: Configuration = .semian) {
        precondition(configuration.windowSeconds >= 1)
        self.configuration = configuration
        idealErrorRate = configuration.initialErrorRate
        window = SecondBuckets(seconds: configuration.windowSeconds)
    }

    public var reportedState: LeveeState.Kind {
        if rejectionRate >= 1 { return .open }
        if rejectionRate > 0 { return .throttled }
        return .closed
    }

    public static var admitsInBulk: Bool { true }

    /// With no rejection rate every call is admitted without a random draw until the next
    /// once-a-second tick, which may set one.
    public func wouldAdmitInBulk(_ count: Int, through instant: Int64) -> Bool {
        rejectionRate <= 0 && instant < ticker.nextTickStart
    }

    public mutating func recordBulkAdmissions(_ count: Int, through instant: Int64) {
        // No tick is due before `instant`, so this only moves the ticker's clock forward.
        if instant > ticker.lastInstant { _ = advance(to: instant) }
    }

    public mutating func admit(slot: Int, at instant: Int64) -> Bool {
        guard advance(to: instant) else { return false }
        if rejectionRate <= 0 { return true }
        if rejectionRate >= 1 { return false }
        return !(unitUniform(&generator) < rejectionRate)
    }

    @inline(__always)
    public mutating func complete(slot: Int, succeeded: Bool, at instant: Int64) {
        guard advance(to: instant) else { return }
        window.advance(to: instant)
        window.add(first: succeeded ? 1 : 0, second: succeeded ? 0 : 1)
    }

    /// Rejects time going backwards, then runs the ticks due at or before `instant`.
    private mutating func advance(to instant: Int64) -> Bool {
        guard let due = ticker.advance(to: instant) else {
            protocolErrors += 1
            return false
        }
        for second in due { tick(second: second) }
        return true
    }

    /// One controller update at the start of second `second`.
    mutating func tick(second: Int64) {
        // Ticks run before any completion of their own second is recorded, so a window whose
        // newest bucket is the previous second holds exactly seconds `second − size … second − 1`.
        window.advance(to: (second - 1) * Self.tickNanoseconds)
        let successes = window.firstTotal
        let errors = window.secondTotal
        let total = successes + errors
        let e = total == 0 ? 0 : Double(errors) / Double(total)
        errorRate = e

        if e <= configuration.idealErrorRateCap {
            let lowConfidence = observations < configuration.lowConfidenceObservations
            let alpha: Double
            if e > idealErrorRate {
                alpha = lowConfidence ? configuration.lowConfidenceAlphaUp : configuration.alphaUp
            } else {
                alpha = lowConfidence ? configuration.lowConfidenceAlphaDown : configuration.alphaDown
            }
            idealErrorRate = alpha * e + (1 - alpha) * idealErrorRate
            observations += 1
        }

        var delta = e - idealErrorRate
        if delta > 0, delta <= configuration.deadZoneRatio * idealErrorRate { delta = 0 }
        let p = delta - (1 - delta) * rejectionRate
        let dt = Double(Self.tickNanoseconds) / 1e9
        integral += p * dt
        let derivative = configuration.kd * (p - previousP) / dt
        let control = configuration.kp * p + configuration.ki * integral + derivative
        rejectionRate = min(max(rejectionRate + control, 0), 1)
        integral = min(max(integral, configuration.integralLowerCap), configuration.integralUpperCap)
        previousP = p
        ticks += 1
    }
}
