/// A cheap, read-only view of what a ``Levee`` has learned and decided.
public struct LeveeStatistics: Sendable, Hashable {
    public var state: LeveeState
    /// Estimated success rate of the dependency, from the most precise window consistent with recent evidence.
    public var estimatedSuccessRate: Double
    /// Confidence interval of `estimatedSuccessRate` at the confidence Levee uses to decide.
    public var successRateInterval: ClosedRange<Double>
    /// Completions behind the estimate.
    public var sampleCount: Double
    /// The probability with which calls are currently shed for missing the SLO (1 when open).
    public var rejectionProbability: Double
    /// The concurrency limit in force, or `nil` when none binds.
    public var concurrencyLimit: Int?
    /// Calls admitted and not yet released.
    public var inFlight: Int
    /// Learned healthy latency of successful calls, in nanoseconds (0 until learned).
    public var baselineLatencyNanoseconds: Double
    /// Recent latency of successful calls, in nanoseconds.
    public var recentLatencyNanoseconds: Double
    /// The latency a concurrency limit in force steers to, as a multiple of the baseline: the
    /// center of the setpoint search, learned from the completions a binding limit gets (1.5 until
    /// a limit has bound for long enough; kept in snapshots).
    public var latencySetpoint: Double
    /// Learned healthy throughput (completions per second).
    public var baselineThroughput: Double
    /// Recent arrival rate (calls offered per second).
    public var offeredRate: Double
    /// Running totals since this instance was created. A restore does not reset them: they count
    /// what this instance did, not what the snapshot learned.
    public var counters: Counters

    public struct Counters: Sendable, Hashable {
        public var admitted: Int = 0
        public var probes: Int = 0
        public var rejectedOpen: Int = 0
        public var rejectedLimit: Int = 0
        public var rejectedShedding: Int = 0
        /// Calls that dry-run mode admitted but would have rejected.
        public var dryRunRejections: Int = 0
        public var successes: Int = 0
        public var failures: Int = 0
        public var ignored: Int = 0
        /// Releases of a permit already released, or issued before a restore.
        public var staleReleases: Int = 0
        public var transitions: Int = 0

        public var rejected: Int { rejectedOpen + rejectedLimit + rejectedShedding }
    }
}
