public import Levee
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Two counters kept over a trailing window of whole simulated seconds, one bucket per second.
///
/// The window at second `t` covers buckets `t − size + 1 … t` (the current, partial second
/// included). Advancing clears the buckets that fall out, so totals are O(1) to read and the
/// amortised cost per event is O(1). Time never moves backwards here: an instant earlier than
/// the newest bucket is counted in the newest bucket.
struct SecondBuckets: Sendable, Hashable {
    let size: Int
    /// Per second, the two counters side by side: one array, so one uniqueness check per update.
    private var counts: [Int]
    /// The newest second counted (floor of nanoseconds / 1 s).
    private(set) var newestSecond: Int64 = .min
    /// The first instant after the newest second (`Int64.min` before any): earlier instants leave
    /// the window where it is, which spares every event but the first of each second a division.
    private(set) var newestSecondEnd: Int64 = .min
    /// Where the newest second's counters are in `counts`.
    private var newestOffset = 0
    private(set) var firstTotal = 0
    private(set) var secondTotal = 0

    init(seconds: Int) {
        precondition(seconds >= 1, "a window needs at least one bucket")
        size = seconds
        counts = Array(repeating: 0, count: 2 * seconds)
    }

    /// The whole second containing `instant` (floor division, also for negative instants).
    @inline(__always)
    static func secondOf(_ instant: Int64) -> Int64 {
        let (quotient, remainder) = instant.quotientAndRemainder(dividingBy: 1_000_000_000)
        return remainder < 0 ? quotient - 1 : quotient
    }

    /// The first instant of the second after `second`, `Int64.max` when that is out of range.
    @inline(__always)
    static func end(ofSecond second: Int64) -> Int64 {
        second < Int64.max / 1_000_000_000 ? (second + 1) * 1_000_000_000 : .max
    }

    /// Moves the window so that its newest bucket is the second containing `instant`.
    @inline(__always)
    mutating func advance(to instant: Int64) {
        if instant < newestSecondEnd { return }
        moveForward(to: Self.secondOf(instant))
    }

    @inline(never)
    private mutating func moveForward(to now: Int64) {
        guard now > newestSecond else { return }
        if newestSecond == .min || now - newestSecond >= Int64(size) {
            for index in counts.indices { counts[index] = 0 }
            firstTotal = 0
            secondTotal = 0
        } else {
            var expired = newestSecond + 1
            while expired <= now {
                let offset = 2 * bucketIndex(expired)
                firstTotal -= counts[offset]
                secondTotal -= counts[offset + 1]
                counts[offset] = 0
                counts[offset + 1] = 0
                expired += 1
            }
        }
        newestSecond = now
        newestSecondEnd = Self.end(ofSecond: now)
        newestOffset = 2 * bucketIndex(now)
    }

    @inline(__always)
    private func bucketIndex(_ second: Int64) -> Int {
        let index = Int(second % Int64(size))
        return index < 0 ? index + size : index
    }

    /// Adds to the newest bucket (call ``advance(to:)`` first).
    @inline(__always)
    mutating func add(first deltaFirst: Int, second deltaSecond: Int) {
        let offset = newestOffset
        counts.withUnsafeMutableBufferPointer { counts in
            counts[offset] += deltaFirst
            counts[offset + 1] += deltaSecond
        }
        firstTotal += deltaFirst
        secondTotal += deltaSecond
    }
}

/// Lazy once-a-second ticks on simulated time: the first event at or after each whole second runs
/// the ticks due up to it, in order. The first tick is the first whole second after the first
/// event. After a silence longer than `maximumCatchUp` ticks the rest are skipped.
struct SecondTicker: Sendable, Hashable {
    let maximumCatchUp: Int
    private(set) var lastInstant: Int64 = .min
    private var nextTickSecond: Int64 = 0
    /// The first instant of `nextTickSecond` (`Int64.min` before the first event): an instant
    /// before it has no tick due, found without a division.
    private(set) var nextTickStart: Int64 = .min

    init(maximumCatchUp: Int) {
        precondition(maximumCatchUp >= 1, "the ticker must catch up at least one tick")
        self.maximumCatchUp = maximumCatchUp
    }

    /// Accepts `instant` and returns the seconds whose ticks are now due (often none), or nil
    /// when time went backwards (the instant is then ignored).
    @inline(__always)
    mutating func advance(to instant: Int64) -> Range<Int64>? {
        if instant < lastInstant { return nil }
        if instant < nextTickStart {
            lastInstant = instant
            return nextTickSecond..<nextTickSecond
        }
        return advanceToNewSecond(instant)
    }

    @inline(never)
    private mutating func advanceToNewSecond(_ instant: Int64) -> Range<Int64> {
        let currentSecond = SecondBuckets.secondOf(instant)
        if lastInstant == .min { nextTickSecond = currentSecond + 1 }
        lastInstant = instant
        defer { nextTickStart = SecondBuckets.end(ofSecond: nextTickSecond - 1) }
        guard nextTickSecond <= currentSecond else { return nextTickSecond..<nextTickSecond }
        let due = nextTickSecond..<min(currentSecond + 1, nextTickSecond + Int64(maximumCatchUp))
        nextTickSecond = currentSecond + 1
        return due
    }
}

/// When a limiter last rejected, to report ``LeveeState/Kind/throttled`` for a hold period
/// afterwards instead of flipping the state on every arrival while it sits at its limit.
struct RejectionHold: Sendable, Hashable {
    static let holdNanoseconds: Int64 = 1_000_000_000
    private var lastRejectionAt: Int64 = .min

    mutating func rejected(at instant: Int64) { lastRejectionAt = instant }

    /// The state to report when the latest event happened at `latestInstant`.
    func state(at latestInstant: Int64) -> LeveeState.Kind {
        guard lastRejectionAt != .min else { return .closed }
        return latestInstant - lastRejectionAt < Self.holdNanoseconds ? .throttled : .closed
    }
}

/// Client-side adaptive throttling as described in Google's SRE book ("Handling Overload").
///
/// Over a trailing window (2 minutes, kept as 120 per-second buckets) the client counts
/// `requests`, every call the application attempted **including those rejected locally**, and
/// `accepts`, the calls the backend handled successfully (here: admitted calls that completed
/// successfully, counted in the second they completed). Each new call is rejected locally with
/// probability
///
///     max(0, (requests − K · accepts) / (requests + 1))
///
/// computed from the counts before the call itself is counted, with `K = 2`.
///
/// - The probabilistic draw uses ``Xoshiro256PlusPlus`` seeded with ``defaultSeed`` (or the seed
///   given), so a run is reproducible; the generator is only consulted when the probability is
///   above zero.
/// - It never fully opens: the `+ 1` keeps the probability below 1, so some traffic always leaks
///   through. It reports ``LeveeState/Kind/throttled`` while the probability is above zero and
///   ``LeveeState/Kind/closed`` otherwise, never ``LeveeState/Kind/open``.
/// - With no history it throttles at once: before the first accepts arrive, the n-th call is
///   rejected with probability (n − 1) / n, as the formula says (grpc-go pads the denominator with
///   8 instead of 1 to soften this; here the book's `+ 1` is kept).
/// - The throttle is designed for backends that reject because of *overload* (their accepts are
///   capped by capacity). Against a backend whose per-call success probability `s` does not depend
///   on load and `K · s < 1`, counting locally rejected calls as requests ratchets the probability
///   towards 1, because rejecting more does not raise the accepts.
public struct SREAdaptiveThrottle: BenchmarkCandidate, Sendable, Hashable {
    /// The fixed parameters.
    public struct Configuration: Sendable, Hashable {
        /// The multiplier on accepts (the book suggests 2; lower throttles more aggressively).
        public var k: Double
        /// The trailing window, in whole seconds (one bucket per second).
        public var windowSeconds: Int
        /// The seed of the rejection draw.
        public var seed: UInt64

        public init(k: Double = 2, windowSeconds: Int = 120, seed: UInt64 = SREAdaptiveThrottle.defaultSeed) {
            self.k = k
            self.windowSeconds = windowSeconds
            self.seed = seed
        }

        /// K = 2, a 2-minute window.
        public static let standard = Configuration()
    }

    /// The fixed seed of the rejection draw (ASCII "SRE-THRT").
    public static let defaultSeed: UInt64 = 0x5352_452D_5448_5254

    public let configuration: Configuration
    /// `requests` (first) and `accepts` (second) over the window.
    private var window: SecondBuckets
    private var generator: Xoshiro256PlusPlus
    /// The rejection probability computed at the latest event.
    public private(set) var rejectionProbability = 0.0

    public init(configuration: Configuration = .standard) {
        self.configuration = configuration
        window = SecondBuckets(seconds: configuration.windowSeconds)
        generator = Xoshiro256PlusPlus(seed: configuration.seed)
    }

    /// Requests counted in the window (locally rejected ones included).
    public var requests: Int { window.firstTotal }
    /// Accepts counted in the window.
    public var accepts: Int { window.secondTotal }

    public var reportedState: LeveeState.Kind { rejectionProbability > 0 ? .throttled : .closed }

    /// The SRE formula on the current counts.
    @inline(__always)
    private func probability() -> Double {
        let requests = Double(window.firstTotal)
        let accepts = Double(window.secondTotal)
        return max(0, (requests - configuration.k * accepts) / (requests + 1))
    }

    public static var admitsInBulk: Bool { true }

    /// Every call is admitted without a draw while the window's requests, these calls included
    /// but the last, stay within K times its accepts; within the window's newest second no
    /// bucket drops out, and completions can only add accepts. Admission counts each call, which
    /// ``recordBulkAdmissions(_:through:)`` replays, in the same second's bucket.
    public func wouldAdmitInBulk(_ count: Int, through instant: Int64) -> Bool {
        rejectionProbability <= 0 && instant < window.newestSecondEnd
            && Double(window.firstTotal + count - 1) - configuration.k * Double(window.secondTotal) <= 0
    }

    public mutating func recordBulkAdmissions(_ count: Int, through instant: Int64) {
        window.add(first: count, second: 0)
    }

    public mutating func admit(slot: Int, at instant: Int64) -> Bool {
        window.advance(to: instant)
        let rejection = probability()
        window.add(first: 1, second: 0)
        rejectionProbability = rejection
        guard rejection > 0 else { return true }
        return unitUniform(&generator) >= rejection
    }

    public mutating func complete(slot: Int, succeeded: Bool, at instant: Int64) {
        window.advance(to: instant)
        if succeeded { window.add(first: 0, second: 1) }
        rejectionProbability = probability()
    }
}

/// Envoy's admission control filter (success-rate based load shedding), on simulated time.
///
/// Over a sampling window (30 s, kept as 30 per-second buckets) it counts the calls it admitted
/// that completed (`total`) and those that succeeded (`successes`), in the second they completed;
/// calls it rejected are not counted. A new call is rejected with probability
///
///     min(maxRejection, max(0, (total − successes / threshold) / (total + 1)) ^ (1 / aggression))
///
/// where `threshold` is the success-rate threshold (here the run's SLO success rate), aggression
/// is 1 (linear), the cap is 0.80, and nothing is rejected while the window's average rate of
/// completions is below `rpsThreshold` (0 here, so that gate never applies). At a steady success
/// rate `s` the probability is about `1 − s / threshold`, capped at 0.8.
///
/// - The draw uses ``Xoshiro256PlusPlus`` seeded with ``defaultSeed`` (or the seed given), so a
///   run is reproducible; it is only consulted when the probability is above zero.
/// - It never fully opens (the cap keeps at least 20 % flowing). It reports
///   ``LeveeState/Kind/throttled`` while the probability is above zero, ``LeveeState/Kind/closed``
///   otherwise.
/// - Envoy keeps this state per worker thread; this is one instance, as a single worker would.
public struct EnvoyAdmissionControl: BenchmarkCandidate, Sendable, Hashable {
    /// The fixed parameters, named after Envoy's.
    public struct Configuration: Sendable, Hashable {
        /// `sr_threshold`: the success rate below which rejection starts, in (0, 1].
        public var successRateThreshold: Double
        /// `aggression`: the shaping exponent is 1 / aggression; values below 1 are treated as 1.
        public var aggression: Double
        /// `max_rejection_probability`.
        public var maxRejectionProbability: Double
        /// `sampling_window`, in whole seconds.
        public var samplingWindowSeconds: Int
        /// `rps_threshold`: below this average rate over the window, nothing is rejected.
        public var rpsThreshold: Double
        /// The seed of the rejection draw.
        public var seed: UInt64

        public init(
            successRateThreshold: Double, aggression: Double = 1, maxRejectionProbability: Double = 0.80,
            samplingWindowSeconds: Int = 30, rpsThreshold: Double = 0, seed: UInt64 = EnvoyAdmissionControl.defaultSeed
        ) {
            self.successRateThreshold = successRateThreshold
            self.aggression = aggression
            self.maxRejectionProbability = maxRejectionProbability
            self.samplingWindowSeconds = samplingWindowSeconds
            self.rpsThreshold = rpsThreshold
            self.seed = seed
        }
    }

    /// The fixed seed of the rejection draw (ASCII "ENVOY-AC").
    public static let defaultSeed: UInt64 = 0x454E_564F_592D_4143

    public let configuration: Configuration
    /// `total` (first) and `successes` (second) over the window.
    private var window: SecondBuckets
    private var generator: Xoshiro256PlusPlus
    private let exponent: Double
    /// The rejection probability computed at the latest event.
    public private(set) var rejectionProbability = 0.0

    public init(configuration: Configuration) {
        self.configuration = configuration
        window = SecondBuckets(seconds: configuration.samplingWindowSeconds)
        generator = Xoshiro256PlusPlus(seed: configuration.seed)
        exponent = 1 / max(1, configuration.aggression)
    }

    /// Envoy's defaults except the threshold, which is the SLO's success rate.
    public init(slo: SLO) {
        self.init(configuration: Configuration(successRateThreshold: slo.successRate))
    }

    /// Completed calls counted in the window.
    public var total: Int { window.firstTotal }
    /// Successful calls counted in the window.
    public var successes: Int { window.secondTotal }

    public var reportedState: LeveeState.Kind { rejectionProbability > 0 ? .throttled : .closed }

    private func probability() -> Double {
        let total = Double(window.firstTotal)
        if configuration.rpsThreshold > 0, total / Double(window.size) < configuration.rpsThreshold { return 0 }
        let successes = Double(window.secondTotal)
        var rejection = max(0, (total - successes / configuration.successRateThreshold) / (total + 1))
        if exponent != 1, rejection > 0 { rejection = pow(rejection, exponent) }
        return min(configuration.maxRejectionProbability, rejection)
    }

    public static var admitsInBulk: Bool { true }

    /// With no rejection probability every call is admitted, and an admission changes nothing,
    /// until the window's newest second ends (the oldest second then drops out of the window).
    /// `rejectionProbability` always holds the probability of the window as it stands: every
    /// call and completion sets it after moving the window, and admissions add nothing to it.
    public func wouldAdmitInBulk(_ count: Int, through instant: Int64) -> Bool {
        rejectionProbability <= 0 && instant < window.newestSecondEnd
    }

    public mutating func admit(slot: Int, at instant: Int64) -> Bool {
        window.advance(to: instant)
        let rejection = probability()
        rejectionProbability = rejection
        guard rejection > 0 else { return true }
        return unitUniform(&generator) >= rejection
    }

    public mutating func complete(slot: Int, succeeded: Bool, at instant: Int64) {
        window.advance(to: instant)
        window.add(first: 1, second: succeeded ? 1 : 0)
        rejectionProbability = probability()
    }
}
