public import Levee

/// A static limiter: a token bucket in front of a maximum number of calls in flight, the
/// Static-Limiter of the Go original's mesh benchmark (`levee-bench.md` §6.6).
///
/// A call is admitted when fewer than ``Configuration/maxInFlight`` calls are in flight **and**
/// the bucket holds a whole token, which the call then takes. The bucket refills continuously at
/// ``Configuration/tokensPerSecond`` up to ``Configuration/burstTokens`` and starts full. Tokens
/// are kept in integer units of 10⁻⁹ token, so refilling is exact on the nanosecond clock.
///
/// Reported state: ``LeveeState/Kind/throttled`` while a call was rejected within the last second,
/// ``LeveeState/Kind/closed`` otherwise (the hold keeps the state from flipping per arrival).
public struct StaticLimiter: BenchmarkCandidate, Sendable, Hashable {
    /// The fixed parameters.
    public struct Configuration: Sendable, Hashable {
        /// The bucket's refill rate.
        public var tokensPerSecond: Int
        /// The bucket's capacity (a burst of this many calls is admitted at once).
        public var burstTokens: Int
        /// The most calls in flight at once.
        public var maxInFlight: Int

        public init(tokensPerSecond: Int, burstTokens: Int, maxInFlight: Int) {
            precondition(tokensPerSecond >= 1, "the token bucket needs a rate of at least 1 token/s")
            precondition(burstTokens >= 1, "the token bucket needs room for at least one token")
            precondition(maxInFlight >= 1, "the limiter must allow at least one call in flight")
            self.tokensPerSecond = tokensPerSecond
            self.burstTokens = burstTokens
            self.maxInFlight = maxInFlight
        }

        /// The mesh benchmark's in-flight bound for an expected concurrency `m` (Little's law:
        /// rate × mean latency): `ceil(max(1.5·m, m + 3·√m))`, at least 2. The `3·√m` term is
        /// three standard deviations of a Poisson count with mean `m`; the `1.5·m` term takes
        /// over above m = 36.
        public static func meshMaxInFlight(expectedConcurrency m: Double) -> Int {
            precondition(m.isFinite && m >= 0, "the expected concurrency must be a finite, non-negative number")
            return max(2, Int(max(1.5 * m, m + 3 * m.squareRoot()).rounded(.up)))
        }

        /// Sized from the closed-loop reference backend's provisioning profile alone, as the mesh
        /// sizes its Static-Limiter; nothing here was tuned on benchmark results.
        ///
        /// - Nominal capacity: 8 replicas × 150 rps = 1,200 rps.
        /// - Bucket: 0.85 × 1,200 = 1,020 tokens/s, burst 1 s of that rate = 1,020 tokens.
        /// - In flight: one client-side limiter sees the whole flow, so Little's law is applied to
        ///   the aggregate: m = 1,200 rps × 0.06765 s (the phase-0 mean latency) = 81.18;
        ///   max(1.5 × 81.18, 81.18 + 3 × √81.18) = max(121.77, 108.21) → 122. (Per replica, as
        ///   the mesh's per-replica governors would, it is 8 × ceil(max(15.2, 19.7)) = 160.)
        public static let referenceBackend = Configuration(
            tokensPerSecond: 1_020, burstTokens: 1_020,
            maxInFlight: meshMaxInFlight(expectedConcurrency: 1_200 * 0.067_65))
    }

    /// Sub-token units per token.
    static let unitsPerToken: Int64 = 1_000_000_000

    public let configuration: Configuration
    public private(set) var inFlight = 0
    public private(set) var rejected = 0
    public private(set) var protocolErrors = 0
    /// Bucket content in 10⁻⁹ tokens.
    private var units: Int64
    private let capacityUnits: Int64
    private var refilledAt: Int64 = .min
    private var lastInstant: Int64 = .min
    private var rejectionHold = RejectionHold()
    /// Whether each slot holds an admitted call.
    private var occupied: [Bool]

    public init(configuration: Configuration, slotCapacity: Int) {
        self.configuration = configuration
        capacityUnits = Int64(configuration.burstTokens) * Self.unitsPerToken
        units = capacityUnits
        occupied = Array(repeating: false, count: max(0, slotCapacity))
    }

    /// Whole tokens in the bucket as of the latest event.
    public var tokens: Int { Int(units / Self.unitsPerToken) }

    public var reportedState: LeveeState.Kind { rejectionHold.state(at: lastInstant) }

    public mutating func admit(slot: Int, at instant: Int64) -> Bool {
        guard instant >= lastInstant, slot >= 0, slot < occupied.count, !occupied[slot] else {
            protocolErrors += 1
            return false
        }
        lastInstant = instant
        refill(to: instant)
        guard inFlight < configuration.maxInFlight, units >= Self.unitsPerToken else {
            rejected += 1
            rejectionHold.rejected(at: instant)
            return false
        }
        units -= Self.unitsPerToken
        inFlight += 1
        occupied[slot] = true
        return true
    }

    public mutating func complete(slot: Int, succeeded: Bool, at instant: Int64) {
        guard instant >= lastInstant, slot >= 0, slot < occupied.count, occupied[slot] else {
            protocolErrors += 1
            return
        }
        lastInstant = instant
        occupied[slot] = false
        inFlight -= 1
    }

    private mutating func refill(to instant: Int64) {
        defer { refilledAt = instant }
        guard refilledAt != .min else { return }
        let elapsed = instant - refilledAt
        let rate = Int64(configuration.tokensPerSecond)
        // Past the time a full refill takes, the bucket is full; checking first avoids overflow.
        // `elapsed · rate > missing` is `elapsed ≥ missing / rate + 1` in integers, without the
        // division on every arrival; a product too large to represent is past it too.
        let (refilled, overflow) = elapsed.multipliedReportingOverflow(by: rate)
        if overflow || refilled > capacityUnits - units {
            units = capacityUnits
        } else {
            units = min(capacityUnits, units + elapsed * rate)
        }
    }
}
