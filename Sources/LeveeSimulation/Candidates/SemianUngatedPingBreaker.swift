public import Levee

/// The first design of Semian's adaptive breaker (Shopify's design doc, branch `pid-take-1`), in
/// which **ungated pings** measure the dependency while the breaker rejects:
///
///     P = (e − ê) − (r − pingFailureRate)
///
/// Once per tick (`Δt` = 1 s):
/// 1. `e`: errors / (errors + successes) of **business** calls over the last 10 whole seconds
///    (per-second buckets keyed by completion instant; pings excluded; an empty window reads 0).
/// 2. `pingFailureRate`: failed pings / completed pings over the same 10 s (0 when none completed).
/// 3. `ê`: the 90th percentile (nearest rank) of the per-tick `e` over the last 15 minutes
///    (900 ticks), `pid-take-1`'s "p90 of a 15-minute history", computed exactly here where the
///    branch used a P² estimator; it reads the initial 0.01 until the history holds 5
///    observations (P² needs five markers before it estimates anything). `e` is added before
///    `ê` is read, as the v0.28 smoother does.
/// 4. `P` as above; `I ← I + P·Δt`; `D = kd·(P − P_prev)/Δt`;
///    `r ← clamp(r + kp·P + ki·I + D, 0, 1)`; `I` clamped to ±10 after use. The take-1 gains
///    are kp 1.0, ki 0.1, kd 0.01; the velocity form and the ±10 clamp are v0.28's (the notes do
///    not record take-1's).
/// 5. Each business arrival is rejected with probability `r`.
///
/// **Pings in the open loop.** Semian sent one ping per second through the adapter, bypassing
/// the breaker. The open-loop harness can only observe calls a candidate admits, so a ping is
/// modelled as a real call: the first arrival at or after each whole ``Configuration/pingIntervalNanoseconds``
/// is admitted whatever `r` is, and its outcome feeds `pingFailureRate` instead of `e`. It
/// fails with the dependency's true failure probability at that moment, which is what a ping
/// should measure, and it costs one admitted call per second (counted by the benchmark like any
/// other admission). Ticks run lazily as in ``SemianAdaptiveBreaker``.
///
/// Reported state: ``LeveeState/Kind/open`` when `r ≥ 1`, ``LeveeState/Kind/throttled`` when
/// `0 < r < 1`, ``LeveeState/Kind/closed`` when `r = 0` (pings continue in every state).
public struct SemianUngatedPingBreaker: BenchmarkCandidate, Sendable {
    public struct Configuration: Sendable, Hashable {
        public var kp = 1.0
        public var ki = 0.1
        public var kd = 0.01
        /// The window of `e` and of the ping failure rate, in whole ticks (seconds).
        public var windowSeconds = 10
        /// One ping per interval (Semian's `ping_interval`, 1 s).
        public var pingIntervalNanoseconds: Int64 = 1_000_000_000
        /// `ê` before the history is long enough.
        public var initialIdealErrorRate = 0.01
        /// The history `ê` is a quantile of, in ticks (15 minutes).
        public var idealErrorRateHistoryTicks = 900
        public var idealErrorRateQuantile = 0.9
        /// Observations needed before the quantile replaces the initial value.
        public var idealErrorRateMinimumObservations = 5
        public var integralLowerCap = -10.0
        public var integralUpperCap = 10.0

        public init() {}

        /// `pid-take-1` as the reference notes record it.
        public static let takeOne = Configuration()
    }

    /// The fixed seed of the rejection generator.
    public static let randomSeed: UInt64 = 0x5E31_A0D1_0001_0917
    /// The tick interval, `Δt` (1 s).
    public static let tickNanoseconds: Int64 = 1_000_000_000
    /// The most ticks one event catches up on (as ``SemianAdaptiveBreaker``).
    public static let maximumCatchUpTicks = 3_600

    public let configuration: Configuration
    /// The current rejection probability `r`.
    public private(set) var rejectionRate = 0.0
    /// `e` at the latest tick.
    public private(set) var errorRate = 0.0
    /// The ping failure rate at the latest tick.
    public private(set) var pingFailureRate = 0.0
    /// `ê` at the latest tick.
    public private(set) var idealErrorRate: Double
    public private(set) var integral = 0.0
    public private(set) var previousP = 0.0
    public private(set) var ticks = 0
    /// Pings sent (admitted as pings).
    public private(set) var pingsSent = 0
    /// Business calls admitted.
    public private(set) var businessAdmitted = 0
    public private(set) var protocolErrors = 0

    private var ticker = SecondTicker(maximumCatchUp: SemianUngatedPingBreaker.maximumCatchUpTicks)
    private var nextPingAt: Int64 = .min
    /// Business completions: successes (first), errors (second).
    private var business: SecondBuckets
    /// Ping completions: successes (first), failures (second).
    private var pings: SecondBuckets
    private var history: SlidingQuantile
    /// Whether each slot's call is a ping.
    private var isPing: [Bool]
    private var generator = Xoshiro256PlusPlus(seed: SemianUngatedPingBreaker.randomSeed)

    public init(configuration: Configuration = .takeOne, slotCapacity: Int) {
        precondition(configuration.windowSeconds >= 1, "the window needs at least one second")
        precondition(configuration.pingIntervalNanoseconds >= 1, "the ping interval must be positive")
        precondition(configuration.idealErrorRateHistoryTicks >= 1, "the ê history needs at least one tick")
        precondition(configuration.idealErrorRateQuantile > 0 && configuration.idealErrorRateQuantile <= 1,
                     "the ê quantile must be in (0, 1]")
        self.configuration = configuration
        idealErrorRate = configuration.initialIdealErrorRate
        business = SecondBuckets(seconds: configuration.windowSeconds)
        pings = SecondBuckets(seconds: configuration.windowSeconds)
        history = SlidingQuantile(capacity: configuration.idealErrorRateHistoryTicks)
        isPing = Array(repeating: false, count: max(0, slotCapacity))
    }

    public var reportedState: LeveeState.Kind {
        if rejectionRate >= 1 { return .open }
        if rejectionRate > 0 { return .throttled }
        return .closed
    }

    public static var admitsInBulk: Bool { true }

    /// With no rejection rate every business call is admitted without a random draw until the
    /// next ping is due or the next once-a-second tick, which may set one.
    public func wouldAdmitInBulk(_ count: Int, through instant: Int64) -> Bool {
        rejectionRate <= 0 && instant < min(nextPingAt, ticker.nextTickStart)
    }

    public mutating func recordBulkAdmissions(_ count: Int, through instant: Int64) {
        businessAdmitted += count
        // No tick is due before `instant`, so this only moves the ticker's clock forward.
        if instant > ticker.lastInstant { _ = advance(to: instant) }
    }

    public mutating func admit(slot: Int, at instant: Int64) -> Bool {
        guard slot >= 0, slot < isPing.count else { protocolErrors += 1; return false }
        guard advance(to: instant) else { return false }
        if instant >= nextPingAt {
            // Due pings are not queued up: after a silence, one ping, then the regular schedule.
            let interval = configuration.pingIntervalNanoseconds
            let (quotient, remainder) = instant.quotientAndRemainder(dividingBy: interval)
            nextPingAt = (remainder < 0 ? quotient : quotient + 1) * interval
            isPing[slot] = true
            pingsSent += 1
            return true
        }
        isPing[slot] = false
        let admitted: Bool
        if rejectionRate <= 0 {
            admitted = true
        } else if rejectionRate >= 1 {
            admitted = false
        } else {
            admitted = !(unitUniform(&generator) < rejectionRate)
        }
        if admitted { businessAdmitted += 1 }
        return admitted
    }

    public mutating func complete(slot: Int, succeeded: Bool, at instant: Int64) {
        guard slot >= 0, slot < isPing.count else { protocolErrors += 1; return }
        guard advance(to: instant) else { return }
        let wasPing = isPing[slot]
        // Cleared here so that a slot's flag is set only while its ping is in flight; the
        // business admission's write of `false` then changes nothing (see `wouldAdmitInBulk`).
        isPing[slot] = false
        if wasPing {
            pings.advance(to: instant)
            pings.add(first: succeeded ? 1 : 0, second: succeeded ? 0 : 1)
        } else {
            business.advance(to: instant)
            business.add(first: succeeded ? 1 : 0, second: succeeded ? 0 : 1)
        }
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
        let windowEnd = (second - 1) * Self.tickNanoseconds
        business.advance(to: windowEnd)
        pings.advance(to: windowEnd)
        let successes = business.firstTotal, errors = business.secondTotal
        let e = successes + errors == 0 ? 0 : Double(errors) / Double(successes + errors)
        let pingTotal = pings.firstTotal + pings.secondTotal
        let pingFailures = pingTotal == 0 ? 0 : Double(pings.secondTotal) / Double(pingTotal)
        errorRate = e
        pingFailureRate = pingFailures

        history.add(e)
        if history.count >= configuration.idealErrorRateMinimumObservations {
            idealErrorRate = history.quantile(configuration.idealErrorRateQuantile)
        }

        let p = (e - idealErrorRate) - (rejectionRate - pingFailures)
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

/// An exact quantile over the latest `capacity` values: a ring in arrival order plus the same
/// values kept sorted. Adding is O(capacity) element moves (900 doubles once a second here),
/// with fixed memory.
struct SlidingQuantile: Sendable, Hashable {
    let capacity: Int
    private var ring: [Double]
    private var sorted: [Double]
    private var oldest = 0
    var count: Int { sorted.count }

    init(capacity: Int) {
        precondition(capacity >= 1, "the history needs room for at least one value")
        self.capacity = capacity
        ring = []
        ring.reserveCapacity(capacity)
        sorted = []
        sorted.reserveCapacity(capacity)
    }

    mutating func add(_ value: Double) {
        if ring.count < capacity {
            ring.append(value)
        } else {
            let expired = ring[oldest]
            ring[oldest] = value
            oldest = (oldest + 1) % capacity
            sorted.remove(at: insertionIndex(of: expired))
        }
        sorted.insert(value, at: insertionIndex(of: value))
    }

    /// The nearest-rank `q`-quantile: the smallest value with at least `q·count` values at or
    /// below it. Requires at least one value.
    func quantile(_ q: Double) -> Double {
        let rank = Int((q * Double(sorted.count)).rounded(.up))
        return sorted[min(max(rank, 1), sorted.count) - 1]
    }

    /// The first index whose value is not below `value` (so an equal value is found there).
    private func insertionIndex(of value: Double) -> Int {
        var low = 0, high = sorted.count
        while low < high {
            let middle = (low + high) / 2
            if sorted[middle] < value { low = middle + 1 } else { high = middle }
        }
        return low
    }
}
