/// One stretch of a ``Scenario``: a constant arrival rate, error rate and latency shape.
///
/// Arrivals are Poisson at `rpm` requests per minute; each request fails with probability
/// `errorRate`, independently of everything else; its latency follows ``LatencyDistribution``,
/// which hits `p50Milliseconds` and `p99Milliseconds` exactly and never exceeds the timeout.
public struct Phase: Sendable, Hashable {
    /// A human-readable name such as `"H0 retry storm"`; not used by the generator.
    public var label: String
    /// How long the phase lasts, in seconds (positive).
    public var durationSeconds: Double
    /// Mean arrival rate in requests per minute. Zero makes an idle phase with no requests.
    public var rpm: Int
    /// Probability that a request fails, in [0, 1].
    public var errorRate: Double
    /// Median latency in milliseconds.
    public var p50Milliseconds: Double
    /// 99th-percentile latency in milliseconds, above the median.
    public var p99Milliseconds: Double
    /// The upper bound of every latency, in milliseconds, above the p99.
    public var timeoutMilliseconds: Double

    /// Creates a phase, rejecting values the generator cannot honour.
    ///
    /// - Throws: ``ScenarioError`` naming the offending field (by its CSV column name) when a
    ///   number is NaN, infinite or negative, the duration or p50 is not positive, the error
    ///   rate is above 1, `p50 >= p99`, `p99 >= timeout`, or the duration or the timeout reaches
    ///   10⁹ seconds.
    public init(
        label: String = "",
        durationSeconds: Double,
        rpm: Int,
        errorRate: Double,
        p50Milliseconds: Double,
        p99Milliseconds: Double,
        timeoutMilliseconds: Double
    ) throws(ScenarioError) {
        try Self.requirePositiveFinite(durationSeconds, column: "duration_s", what: "the duration")
        // Keep nanosecond arithmetic (and a whole scenario's sum) far from Int64 overflow.
        guard durationSeconds < Self.maximumDurationSeconds else {
            throw ScenarioError(
                column: "duration_s",
                message: "the duration (\(durationSeconds) s) must be below \(Self.maximumDurationSeconds) s")
        }
        guard rpm >= 0 else {
            throw ScenarioError(column: "rpm", message: "the rate must not be negative, found \(rpm) RPM")
        }
        guard errorRate.isFinite, errorRate >= 0, errorRate <= 1 else {
            throw ScenarioError(
                column: "error_rate", message: "the error rate must be between 0 and 1, found \(errorRate)")
        }
        try Self.requirePositiveFinite(p50Milliseconds, column: "p50_ms", what: "p50")
        try Self.requirePositiveFinite(p99Milliseconds, column: "p99_ms", what: "p99")
        try Self.requirePositiveFinite(timeoutMilliseconds, column: "timeout_ms", what: "the timeout")
        // A request ends at most a timeout after it starts, in Int64 nanoseconds too.
        guard timeoutMilliseconds < Self.maximumTimeoutMilliseconds else {
            throw ScenarioError(
                column: "timeout_ms",
                message: "the timeout (\(timeoutMilliseconds) ms) must be below \(Self.maximumTimeoutMilliseconds) ms")
        }
        guard p50Milliseconds < p99Milliseconds else {
            throw ScenarioError(
                column: "p50_ms",
                message: "p50 (\(p50Milliseconds) ms) must be below p99 (\(p99Milliseconds) ms)")
        }
        guard p99Milliseconds < timeoutMilliseconds else {
            throw ScenarioError(
                column: "p99_ms",
                message: "p99 (\(p99Milliseconds) ms) must be below the timeout (\(timeoutMilliseconds) ms)")
        }
        self.label = label
        self.durationSeconds = durationSeconds
        self.rpm = rpm
        self.errorRate = errorRate
        self.p50Milliseconds = p50Milliseconds
        self.p99Milliseconds = p99Milliseconds
        self.timeoutMilliseconds = timeoutMilliseconds
    }

    /// Why this phase would be rejected by the initializer, or `nil` when it is valid (the
    /// stored properties are mutable, so a valid phase can be made invalid after creation).
    public var validationError: ScenarioError? {
        do {
            _ = try Phase(
                label: label, durationSeconds: durationSeconds, rpm: rpm, errorRate: errorRate,
                p50Milliseconds: p50Milliseconds, p99Milliseconds: p99Milliseconds,
                timeoutMilliseconds: timeoutMilliseconds)
            return nil
        } catch {
            return error
        }
    }

    /// About 31.7 years, for a phase's duration and its timeout alike; the scenario as a whole is
    /// bounded by ``Scenario/maximumTotalDurationSeconds``.
    static let maximumDurationSeconds: Double = 1e9
    /// The same bound for a timeout, in milliseconds; also the CLI's bound on the SLO's timeout,
    /// since simulated instants stay in Int64 nanoseconds either way.
    public static let maximumTimeoutMilliseconds = maximumDurationSeconds * 1_000

    private static func requirePositiveFinite(
        _ value: Double, column: String, what: String
    ) throws(ScenarioError) {
        guard value.isFinite, value > 0 else {
            throw ScenarioError(column: column, message: "\(what) must be a positive finite number, found \(value)")
        }
    }

    /// The duration in whole nanoseconds (rounded to the nearest; exact for whole seconds).
    public var durationNanoseconds: Int64 {
        Int64((durationSeconds * 1e9).rounded())
    }

    /// The number of requests the phase should produce on average: `rpm × duration / 60`.
    public var expectedRequests: Double {
        Double(rpm) * durationSeconds / 60
    }

    /// The latency distribution the generator samples for this phase.
    public var latency: LatencyDistribution {
        LatencyDistribution(
            p50Milliseconds: p50Milliseconds, p99Milliseconds: p99Milliseconds,
            timeoutMilliseconds: timeoutMilliseconds)
    }

    /// The mean of ``latency`` in milliseconds, in closed form (before the success clamp).
    public var meanLatencyMilliseconds: Double {
        latency.meanMilliseconds
    }
}
