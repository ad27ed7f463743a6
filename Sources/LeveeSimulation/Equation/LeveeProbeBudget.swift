public import Levee

/// Levee's side of the circuit breaker equation: the extra worker utilisation Levee's own probes
/// cost while `N` dependencies are down, to set beside ``CircuitBreakerEquation``'s figure for a
/// Semian-style breaker.
///
/// ## Derivation
///
/// While a dependency is down, Levee's circuit is open and admits probes on a budget (see
/// "How Levee decides"; the constants are read from the core, not repeated here):
///
/// 1. The proportional budget is `baseProbeFraction` (2 %) of the dependency's **healthy**
///    arrival rate `r`: `0.02 · r` probes per second. (Offered traffic above the healthy rate,
///    such as a retry storm, is not probed more; offered traffic below it is probed at 2 % of what
///    is offered, so the healthy rate is the worst case.)
/// 2. A floor keeps sparse traffic probed: at least one probe per `max(1 s, 2 × SLO timeout)`,
///    an interval that doubles with each consecutive failed probe, up to 16 times.
///    Probes are paced in time at the larger of the two rates.
/// 3. Both back off with the outage's age `a`: divided by `√(1 + a / 600 s)`.
/// 4. While the dependency is down every probe fails, so after the first four probes the floor is
///    a sixteenth of its base rate. A hanging dependency holds the worker for the caller's
///    timeout, taken to be the SLO timeout; a dependency that fails fast holds it for its failure
///    latency.
///
/// So, per second and over `threads` workers, once the floor has backed off:
///
///     probes = max(0.02 · r, 1 / (16 · max(1 s, 2 · timeout))) / √(1 + a / 600 s)
///     extra  = N · probes · probe_seconds / threads
///
/// Unlike the classic breaker's `N · t_h / (threads · error_timeout)`, the cost grows with the
/// dependency's traffic, not with a hand-set timer: it is 2 % of the healthy call volume, each
/// call held for the timeout instead of its healthy latency.
public struct LeveeProbeBudget: Sendable, Hashable {
    /// Unhealthy dependencies, each behind its own Levee.
    public var dependencies: Int
    /// Worker threads per process.
    public var threads: Int
    /// The SLO each Levee is configured with (its timeout sets the probe floor).
    public var slo: SLO
    /// Healthy arrival rate per dependency, calls per second (from this process).
    public var healthyRequestsPerSecond: Double
    /// Seconds since the dependencies went down.
    public var outageAgeSeconds: Double
    /// Seconds a failing probe holds a worker; `nil` means the SLO timeout (the dependency hangs).
    public var failureLatencySeconds: Double?

    public struct Result: Sendable, Hashable {
        /// `√(1 + age / 600 s)`: what the probe budget is divided by at this age.
        public var backoff: Double
        /// The proportional budget, probes per second per dependency, after back-off.
        public var proportionalProbesPerSecond: Double
        /// The floor, probes per second per dependency, after back-off and once every probe has
        /// failed (a sixteenth of its base rate).
        public var floorProbesPerSecond: Double
        /// The larger of the two: the probe rate per dependency.
        public var probesPerSecond: Double
        /// Seconds each probe holds a worker.
        public var probeSeconds: Double
        /// `N · probes · probe_seconds / threads`, as a fraction.
        public var extraUtilization: Double
    }

    /// Validates the parameters.
    /// - Throws: ``CircuitBreakerEquationError`` naming the first bad parameter.
    public init(
        dependencies: Int, threads: Int, slo: SLO, healthyRequestsPerSecond: Double, outageAgeSeconds: Double = 0,
        failureLatencySeconds: Double? = nil
    ) throws(CircuitBreakerEquationError) {
        guard dependencies >= 1 else { throw .invalid("dependencies", "must be at least 1, got \(dependencies)") }
        guard threads >= 1 else { throw .invalid("threads", "must be at least 1, got \(threads)") }
        guard healthyRequestsPerSecond.isFinite, healthyRequestsPerSecond > 0, healthyRequestsPerSecond <= 1e9 else {
            throw .invalid("levee_rps", "must be a positive number of calls per second, at most 1e9, got \(healthyRequestsPerSecond)")
        }
        // The core measures ages in Int64 nanoseconds; a billion seconds (32 years) is ample.
        guard outageAgeSeconds.isFinite, outageAgeSeconds >= 0, outageAgeSeconds <= 1e9 else {
            throw .invalid("outage_age", "must be a number of seconds from 0 to 1e9, got \(outageAgeSeconds)")
        }
        if let failureLatencySeconds {
            guard failureLatencySeconds.isFinite, failureLatencySeconds > 0, failureLatencySeconds <= 86_400 else {
                throw .invalid("levee_failure_latency", "must be a positive number of seconds, at most a day, got \(failureLatencySeconds)")
            }
        }
        self.dependencies = dependencies
        self.threads = threads
        self.slo = slo
        self.healthyRequestsPerSecond = healthyRequestsPerSecond
        self.outageAgeSeconds = outageAgeSeconds
        self.failureLatencySeconds = failureLatencySeconds
    }

    /// Evaluates the budget with the core's own constants (pure).
    public func evaluate() -> Result {
        let policy = ErrorPolicy(slo: slo)
        let backoff = policy.backoff(age: Int64((outageAgeSeconds * 1e9).rounded()))
        let r = healthyRequestsPerSecond
        let proportional = 1e9 / policy.budgetedProbeInterval(backoff: backoff, offeredRate: r, healthyRate: r)
        let floor = 1e9 / policy.floorProbeInterval(backoff: backoff, failedProbes: ErrorPolicy.maximumFloorDoublings)
        let probes = max(proportional, floor)
        let probeSeconds = failureLatencySeconds ?? Double(slo.timeoutNanoseconds) / 1e9
        return Result(
            backoff: backoff, proportionalProbesPerSecond: proportional, floorProbesPerSecond: floor,
            probesPerSecond: probes, probeSeconds: probeSeconds,
            extraUtilization: Double(dependencies) * probes * probeSeconds / Double(threads))
    }

    /// The base probe fraction of the healthy rate (0.02), from the core.
    public static var baseProbeFraction: Double { ErrorPolicy.baseProbeFraction }
    /// The back-off time constant in seconds (600), from the core.
    public static var probeBackoffSeconds: Double { ErrorPolicy.probeBackoffSeconds }
}
