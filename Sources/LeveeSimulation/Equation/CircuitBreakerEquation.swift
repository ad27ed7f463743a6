/// The "circuit breaker equation": how much extra worker time a service spends on its breakers'
/// half-open probes while its dependencies are unhealthy, and whether it survives that.
///
/// ## Derivation
///
/// Seed 002 (the Semian adaptive-breaker design notes) does not state the formula; it comes from
/// the Shopify post "Your Circuit Breaker is Misconfigured" as summarised in the peer survey
/// (§1.3), rebuilt here from the breaker's cycle while a dependency is down:
///
/// 1. Each of the `N` unhealthy dependencies has its own circuit. Once open, a circuit stays open
///    for `error_timeout` seconds and then lets one call through (half-open).
/// 2. The dependency is still down, so that probe blocks a worker thread for
///    `half_open_resource_timeout` seconds, fails, and re-opens the circuit. Because every probe
///    fails, `success_threshold` never comes into play while the dependencies stay down.
/// 3. Per second, the circuits together therefore cost about
///    `N × half_open_resource_timeout / error_timeout` thread-seconds. Spread over the worker's
///    `threads`, that is the extra utilisation:
///
///        extra = N × half_open_resource_timeout / (threads × error_timeout)
///
///    This is the published form: 42 × 0.25 / (2 × 2) = 2.625 (263 %), and
///    42 × 0.05 / (2 × 30) = 0.035 (about 4 %).
/// 4. Counting the probe inside the cycle (open for `error_timeout`, then probing) gives the
///    slightly smaller `N × t_h / (threads × (error_timeout + t_h))`, reported as
///    ``Result/cycleUtilization`` (Semian issue #244's single-circuit `t_h / (t_h + t_e)`).
/// 5. Tripping each circuit the first time costs `error_threshold` calls of `resource_timeout`
///    each: a one-off `N × error_threshold × resource_timeout / threads` seconds of every thread,
///    reported as ``Result/tripSecondsPerThread``. It vanishes in the steady state, so it is not
///    part of the utilisation.
///
/// The service survives when its utilisation while healthy plus the extra stays below 100 %.
public struct CircuitBreakerEquation: Sendable, Hashable {
    /// Unhealthy dependencies, each behind its own circuit.
    public var dependencies: Int
    /// Worker threads per process.
    public var threads: Int
    /// Errors that open a circuit.
    public var errorThreshold: Int
    /// Seconds a circuit stays open before it probes.
    public var errorTimeout: Double
    /// Consecutive successes that close a half-open circuit (no effect while dependencies are down).
    public var successThreshold: Int
    /// Seconds a call waits on the dependency while the circuit is closed.
    public var resourceTimeout: Double
    /// Seconds a half-open probe waits on the dependency.
    public var halfOpenResourceTimeout: Double
    /// The worker's utilisation while everything is healthy, in [0, 1).
    public var baselineUtilization: Double

    /// The outcome.
    public struct Result: Sendable, Hashable {
        /// The published steady-state figure: N × t_h / (threads × error_timeout), as a fraction.
        public var extraUtilization: Double
        /// The same counting the probe inside the cycle: N × t_h / (threads × (error_timeout + t_h)).
        public var cycleUtilization: Double
        /// One-off seconds of every thread spent tripping all circuits once.
        public var tripSecondsPerThread: Double
        /// Baseline plus extra.
        public var totalUtilization: Double
        /// Whether the total stays below 100 %.
        public var survives: Bool
    }

    /// Validates the parameters.
    /// - Throws: ``CircuitBreakerEquationError`` naming the first bad parameter.
    public init(
        dependencies: Int, threads: Int, errorThreshold: Int, errorTimeout: Double, successThreshold: Int,
        resourceTimeout: Double, halfOpenResourceTimeout: Double, baselineUtilization: Double = 0
    ) throws(CircuitBreakerEquationError) {
        guard dependencies >= 1 else { throw .invalid("dependencies", "must be at least 1, got \(dependencies)") }
        guard threads >= 1 else { throw .invalid("threads", "must be at least 1, got \(threads)") }
        guard errorThreshold >= 1 else { throw .invalid("error_threshold", "must be at least 1, got \(errorThreshold)") }
        guard errorTimeout.isFinite, errorTimeout > 0 else {
            throw .invalid("error_timeout", "must be a positive number of seconds, got \(errorTimeout)")
        }
        guard successThreshold >= 1 else { throw .invalid("success_threshold", "must be at least 1, got \(successThreshold)") }
        guard resourceTimeout.isFinite, resourceTimeout > 0 else {
            throw .invalid("resource_timeout", "must be a positive number of seconds, got \(resourceTimeout)")
        }
        guard halfOpenResourceTimeout.isFinite, halfOpenResourceTimeout > 0 else {
            throw .invalid("half_open_resource_timeout", "must be a positive number of seconds, got \(halfOpenResourceTimeout)")
        }
        guard baselineUtilization.isFinite, baselineUtilization >= 0, baselineUtilization < 1 else {
            throw .invalid("baseline_utilization", "must be in [0, 1), got \(baselineUtilization)")
        }
        self.dependencies = dependencies
        self.threads = threads
        self.errorThreshold = errorThreshold
        self.errorTimeout = errorTimeout
        self.successThreshold = successThreshold
        self.resourceTimeout = resourceTimeout
        self.halfOpenResourceTimeout = halfOpenResourceTimeout
        self.baselineUtilization = baselineUtilization
    }

    /// Evaluates the equation (pure).
    public func evaluate() -> Result {
        let n = Double(dependencies)
        let w = Double(threads)
        let extra = n * halfOpenResourceTimeout / (w * errorTimeout)
        let cycle = n * halfOpenResourceTimeout / (w * (errorTimeout + halfOpenResourceTimeout))
        let trip = n * Double(errorThreshold) * resourceTimeout / w
        let total = baselineUtilization + extra
        return Result(extraUtilization: extra, cycleUtilization: cycle, tripSecondsPerThread: trip,
                      totalUtilization: total, survives: total < 1)
    }
}

/// A parameter of ``CircuitBreakerEquation`` out of range.
public enum CircuitBreakerEquationError: Error, Sendable, Hashable, CustomStringConvertible {
    case invalid(_ parameter: String, _ problem: String)

    public var description: String {
        switch self {
        case .invalid(let parameter, let problem): "\(parameter) \(problem)"
        }
    }
}
