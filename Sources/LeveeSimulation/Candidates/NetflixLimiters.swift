public import Levee

/// A concurrency-limit algorithm in the style of Netflix concurrency-limits: it turns completed
/// calls into a limit; a limiter (``ConcurrencyLimitCandidate``) enforces that limit.
///
/// Netflix splits the two the same way (`Limit` and `Limiter`), so one limiter can be tried with
/// each algorithm.
public protocol LimitAlgorithm: Sendable {
    /// The current concurrency limit, as the limiter enforces it.
    var limit: Int { get }

    /// One completed call.
    ///
    /// - Parameters:
    ///   - startInstant: When the call was admitted (nanoseconds of simulated time).
    ///   - rtt: How long it took, in nanoseconds.
    ///   - inFlight: Calls in flight when this one was admitted, itself included (Netflix passes
    ///     the count taken at acquisition).
    ///   - dropped: The call was reported as dropped (a timeout or an overload rejection) rather
    ///     than as a success.
    mutating func onSample(at startInstant: Int64, rtt: Int64, inFlight: Int, dropped: Bool)
}

/// `floor(log10(value))`, at least 1: Netflix's `Log10RootFunction`, on the integer part of the
/// limit (`Int(limit)`), which is how Vegas sizes its thresholds and steps.
@inline(__always)
func netflixLog10(_ value: Double) -> Int {
    guard value >= 100 else { return 1 }
    var digits = 0
    var remaining = Int(value)
    while remaining >= 10 {
        remaining /= 10
        digits += 1
    }
    return max(1, digits)
}

/// An exponential moving average with a warm-up, as Netflix's `ExpAvgMeasurement`: the first
/// `warmupSamples` samples are averaged arithmetically, later ones are blended with the factor
/// `2 / (window + 1)`.
public struct WarmedExponentialAverage: Sendable, Hashable {
    public let window: Int
    public let warmupSamples: Int
    public private(set) var value = 0.0
    public private(set) var count = 0
    private var warmupSum = 0.0

    public init(window: Int, warmupSamples: Int) {
        precondition(window >= 1, "the average needs a window of at least one sample")
        precondition(warmupSamples >= 0, "the warm-up cannot be negative")
        self.window = window
        self.warmupSamples = warmupSamples
    }

    /// Adds a sample and returns the new value.
    @discardableResult
    public mutating func add(_ sample: Double) -> Double {
        if count < warmupSamples {
            count += 1
            warmupSum += sample
            value = warmupSum / Double(count)
        } else {
            let factor = 2 / (Double(window) + 1)
            value = value * (1 - factor) + sample * factor
        }
        return value
    }

    /// Scales the current value (Gradient2's decay after overload).
    public mutating func scale(by factor: Double) { value *= factor }
}

// MARK: - Gradient2

/// Netflix's `Gradient2Limit`: the limit follows the ratio of a long-term RTT average to the
/// latest RTT, plus a fixed queue allowance.
///
/// Per sample (no `WindowedLimit` in front, so the "short" RTT is the sample itself):
/// 1. `longRtt` takes the sample (exponential average over 600 samples, 10-sample warm-up); if
///    `longRtt / rtt > 2` it is multiplied by 0.95, so a long average inflated by an earlier
///    overload drifts back down.
/// 2. While `inFlight < limit / 2` the limit does not move (application-limited).
/// 3. `gradient = clamp(tolerance · longRtt / rtt, 0.5, 1)`;
///    `new = limit · gradient + queueSize`; `limit ← limit·(1 − s) + new·s`, clamped to
///    [min, max]. The enforced limit is the integer part.
///
/// Drops carry no special meaning in Gradient2: their RTT is used like any other.
/// Defaults (`peers.md` §1.5, Netflix's builder): initial 20, min 20, max 200, smoothing 0.2,
/// queue size 4, long window 600, RTT tolerance 1.5.
public struct Gradient2Limit: LimitAlgorithm, Sendable, Hashable {
    public struct Configuration: Sendable, Hashable {
        public var initialLimit = 20.0
        public var minLimit = 20.0
        public var maxLimit = 200.0
        public var smoothing = 0.2
        /// The fixed queue allowance added to the scaled limit on every sample.
        public var queueSize = 4.0
        public var rttTolerance = 1.5
        /// Samples in the long RTT average.
        public var longWindow = 600
        /// Samples averaged arithmetically before the long average starts blending.
        public var warmupWindow = 10

        public init() {}

        /// Netflix's defaults.
        public static let netflix = Configuration()
    }

    public let configuration: Configuration
    /// The limit before truncation to an integer.
    public private(set) var estimatedLimit: Double
    /// The long-term RTT average, in nanoseconds.
    public private(set) var longRtt: WarmedExponentialAverage
    /// The latest sample's RTT, in nanoseconds.
    public private(set) var lastRtt: Int64 = 0

    public init(configuration: Configuration = .netflix) {
        precondition(configuration.minLimit >= 1 && configuration.minLimit <= configuration.maxLimit,
                     "Gradient2 needs 1 ≤ minLimit ≤ maxLimit")
        precondition(configuration.smoothing > 0 && configuration.smoothing <= 1, "smoothing must be in (0, 1]")
        precondition(configuration.rttTolerance >= 1, "rttTolerance must be at least 1")
        self.configuration = configuration
        estimatedLimit = min(max(configuration.initialLimit, configuration.minLimit), configuration.maxLimit)
        longRtt = WarmedExponentialAverage(window: configuration.longWindow, warmupSamples: configuration.warmupWindow)
    }

    public var limit: Int { Int(estimatedLimit) }

    public mutating func onSample(at startInstant: Int64, rtt: Int64, inFlight: Int, dropped: Bool) {
        // A zero RTT would make the gradient infinite; the simulated clock never produces one
        // for a real call, and one nanosecond changes nothing measurable.
        let shortRtt = Double(max(rtt, 1))
        lastRtt = rtt
        var long = longRtt.add(shortRtt)
        if long / shortRtt > 2 {
            longRtt.scale(by: 0.95)
            long = longRtt.value
        }
        if Double(inFlight) < estimatedLimit / 2 { return }
        let gradient = min(max(configuration.rttTolerance * long / shortRtt, 0.5), 1.0)
        var newLimit = estimatedLimit * gradient + configuration.queueSize
        newLimit = estimatedLimit * (1 - configuration.smoothing) + newLimit * configuration.smoothing
        estimatedLimit = min(max(newLimit, configuration.minLimit), configuration.maxLimit)
    }
}

// MARK: - Vegas

/// Netflix's `VegasLimit`, after TCP Vegas: estimate the queue from the ratio of the no-load RTT
/// to the sample's RTT, and step the limit by `log10(limit)`-sized amounts.
///
/// Per sample:
/// 1. Every `probeMultiplier · limit · jitter` samples (jitter uniform in [0.5, 1), redrawn at
///    each probe) the no-load RTT is reset to the sample, and nothing else happens.
/// 2. The first sample, and any sample faster than the no-load RTT, sets the no-load RTT and
///    nothing else happens.
/// 3. `queue = ceil(limit · (1 − rttNoLoad / rtt))`; with `L = max(1, floor(log10(limit)))`:
///    `alpha = 3L`, `beta = 6L`, `threshold = L`.
/// 4. A drop: `new = limit − L`. Otherwise, while `2 · inFlight < limit`, nothing changes
///    (application-limited); else `queue ≤ threshold` → `limit + beta`; `queue < alpha` →
///    `limit + L`; `queue > beta` → `limit − L`; in between, nothing changes.
/// 5. `new` is clamped to [1, max], then smoothed: `limit ← (1 − s)·limit + s·new`.
///
/// Defaults (`peers.md` §1.5, Netflix's builder): initial 20, max 1000, smoothing 1.0, probe
/// multiplier 30. The jitter is drawn from a seeded xoshiro256++ (Netflix uses a thread-local
/// random), so runs are reproducible.
public struct VegasLimit: LimitAlgorithm, Sendable, Hashable {
    public struct Configuration: Sendable, Hashable {
        public var initialLimit = 20.0
        public var maxLimit = 1_000.0
        public var smoothing = 1.0
        public var probeMultiplier = 30.0
        public var seed: UInt64 = VegasLimit.defaultSeed

        public init() {}

        /// Netflix's defaults.
        public static let netflix = Configuration()
    }

    /// The fixed seed of the probe jitter (ASCII "VEGAS-NF").
    public static let defaultSeed: UInt64 = 0x5645_4741_532D_4E46

    public let configuration: Configuration
    public private(set) var estimatedLimit: Double
    /// The no-load RTT, in nanoseconds; 0 until the first sample.
    public private(set) var rttNoLoad: Int64 = 0
    /// Samples since the latest probe.
    public private(set) var probeCount = 0
    /// The current probe jitter, in [0.5, 1).
    public private(set) var probeJitter: Double
    /// The queue estimate of the latest sample that reached the update.
    public private(set) var lastQueueEstimate = 0
    private var generator: Xoshiro256PlusPlus

    public init(configuration: Configuration = .netflix) {
        precondition(configuration.maxLimit >= 1, "Vegas needs maxLimit ≥ 1")
        precondition(configuration.smoothing > 0 && configuration.smoothing <= 1, "smoothing must be in (0, 1]")
        precondition(configuration.probeMultiplier > 0, "probeMultiplier must be positive")
        self.configuration = configuration
        estimatedLimit = min(max(configuration.initialLimit, 1), configuration.maxLimit)
        generator = Xoshiro256PlusPlus(seed: configuration.seed)
        probeJitter = 0.5 + 0.5 * unitUniform(&generator)
    }

    public var limit: Int { Int(estimatedLimit) }

    public mutating func onSample(at startInstant: Int64, rtt: Int64, inFlight: Int, dropped: Bool) {
        let rtt = max(rtt, 1)
        probeCount += 1
        if probeJitter * configuration.probeMultiplier * estimatedLimit <= Double(probeCount) {
            probeJitter = 0.5 + 0.5 * unitUniform(&generator)
            probeCount = 0
            rttNoLoad = rtt
            return
        }
        if rttNoLoad == 0 || rtt < rttNoLoad {
            rttNoLoad = rtt
            return
        }
        let queue = Int((estimatedLimit * (1 - Double(rttNoLoad) / Double(rtt))).rounded(.up))
        lastQueueEstimate = queue
        let step = netflixLog10(estimatedLimit)
        var newLimit: Double
        if dropped {
            newLimit = estimatedLimit - Double(step)
        } else if Double(inFlight * 2) < estimatedLimit {
            return
        } else if queue <= step {
            newLimit = estimatedLimit + Double(6 * step)
        } else if queue < 3 * step {
            newLimit = estimatedLimit + Double(step)
        } else if queue > 6 * step {
            newLimit = estimatedLimit - Double(step)
        } else {
            return
        }
        newLimit = min(max(newLimit, 1), configuration.maxLimit)
        estimatedLimit = (1 - configuration.smoothing) * estimatedLimit + configuration.smoothing * newLimit
    }
}

// MARK: - AIMD

/// Netflix's `AIMDLimit`: additive increase, multiplicative decrease on an integer limit.
///
/// Per sample: a drop, or an RTT above the timeout, sets `limit ← floor(limit · backoffRatio)`;
/// otherwise, when `2 · inFlight ≥ limit`, `limit ← limit + 1`. The result is clamped to
/// [min, max]. Defaults (`peers.md` §1.5): initial 20, min 20, max 200, backoff 0.9, timeout 5 s.
public struct AIMDLimit: LimitAlgorithm, Sendable, Hashable {
    public struct Configuration: Sendable, Hashable {
        public var initialLimit = 20
        public var minLimit = 20
        public var maxLimit = 200
        public var backoffRatio = 0.9
        public var timeoutNanoseconds: Int64 = 5_000_000_000

        public init() {}

        /// Netflix's defaults.
        public static let netflix = Configuration()
    }

    public let configuration: Configuration
    public private(set) var limit: Int

    public init(configuration: Configuration = .netflix) {
        precondition(configuration.minLimit >= 1 && configuration.minLimit <= configuration.maxLimit,
                     "AIMD needs 1 ≤ minLimit ≤ maxLimit")
        precondition(configuration.backoffRatio > 0 && configuration.backoffRatio < 1, "backoffRatio must be in (0, 1)")
        self.configuration = configuration
        limit = min(max(configuration.initialLimit, configuration.minLimit), configuration.maxLimit)
    }

    public mutating func onSample(at startInstant: Int64, rtt: Int64, inFlight: Int, dropped: Bool) {
        var next = limit
        if dropped || rtt > configuration.timeoutNanoseconds {
            next = Int(Double(limit) * configuration.backoffRatio)
        } else if inFlight * 2 >= limit {
            next = limit + 1
        }
        limit = min(max(next, configuration.minLimit), configuration.maxLimit)
    }
}

// MARK: - The limiter

/// Netflix's `SimpleLimiter` around any ``LimitAlgorithm``: a resizable semaphore that rejects at
/// once when the calls in flight reach the limit.
///
/// - An admitted call records its start instant and the in-flight count including itself; at
///   completion its RTT (completion − start) is reported to the algorithm.
/// - How failures are reported is a choice of the integration, not of the limiter: Netflix's
///   listener has `onSuccess` (the RTT is a sample), `onDropped` (a timeout or an overload
///   rejection: a sample flagged as a drop) and `onIgnore` (release the permit, no sample). Its
///   gRPC client interceptor reports `UNAVAILABLE` as dropped and other errors as ignored. The
///   open loop only says "failed", so ``FailureReport`` picks one; the built-in descriptors use
///   ``FailureReport/dropped`` (see `docs/baselines.md`).
/// - Reported state: ``LeveeState/Kind/throttled`` while a call was rejected within the last
///   second, ``LeveeState/Kind/closed`` otherwise. A limiter never
///   rejects everything, so it is never ``LeveeState/Kind/open``; the hold keeps the reported
///   state from flipping on every arrival while the limiter sits at its limit.
public struct ConcurrencyLimitCandidate<Algorithm: LimitAlgorithm>: BenchmarkCandidate, Sendable {
    /// How a failed call is reported to the algorithm.
    public enum FailureReport: Sendable, Hashable {
        /// As `onDropped`: an RTT sample flagged as a drop.
        case dropped
        /// As `onIgnore`: the permit is released and nothing is sampled.
        case ignored
    }

    public private(set) var algorithm: Algorithm
    public let failureReport: FailureReport
    public private(set) var inFlight = 0
    public private(set) var rejected = 0
    public private(set) var protocolErrors = 0
    /// Per slot, its call's start instant (`.min` while the slot holds no admitted call) and the
    /// in-flight count at its admission, itself included; one array, so one uniqueness check.
    private var calls: [SlotCall]

    private struct SlotCall: Sendable {
        var startedAt: Int64 = .min
        var inFlightAtStart: Int32 = 0
    }
    private var lastInstant: Int64 = .min
    private var rejectionHold = RejectionHold()

    public init(algorithm: Algorithm, failureReport: FailureReport = .dropped, slotCapacity: Int) {
        self.algorithm = algorithm
        self.failureReport = failureReport
        calls = Array(repeating: SlotCall(), count: max(0, slotCapacity))
    }

    /// The limit currently enforced.
    public var limit: Int { algorithm.limit }

    public var reportedState: LeveeState.Kind { rejectionHold.state(at: lastInstant) }

    public mutating func admit(slot: Int, at instant: Int64) -> Bool {
        guard instant >= lastInstant, slot >= 0, slot < calls.count, calls[slot].startedAt == .min else {
            protocolErrors += 1
            return false
        }
        lastInstant = instant
        if inFlight >= algorithm.limit {
            rejected += 1
            rejectionHold.rejected(at: instant)
            return false
        }
        inFlight += 1
        calls[slot] = SlotCall(startedAt: instant, inFlightAtStart: Int32(clamping: inFlight))
        return true
    }

    public mutating func complete(slot: Int, succeeded: Bool, at instant: Int64) {
        guard instant >= lastInstant, slot >= 0, slot < calls.count, calls[slot].startedAt != .min else {
            protocolErrors += 1
            return
        }
        lastInstant = instant
        let start = calls[slot].startedAt
        let inFlightThen = Int(calls[slot].inFlightAtStart)
        calls[slot].startedAt = .min
        inFlight -= 1
        if succeeded {
            algorithm.onSample(at: start, rtt: instant - start, inFlight: inFlightThen, dropped: false)
        } else if failureReport == .dropped {
            algorithm.onSample(at: start, rtt: instant - start, inFlight: inFlightThen, dropped: true)
        }
    }
}
