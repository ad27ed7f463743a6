/// How one phase's generated requests compare with what the phase asked for.
public struct PhaseSummary: Sendable, Hashable {
    /// The phase's position in ``Scenario/phases``.
    public var phaseIndex: Int
    /// The phase's label.
    public var label: String
    /// The phase's nominal duration.
    public var durationSeconds: Double
    /// The phase's target arrival rate.
    public var rpm: Int

    /// `rpm × duration / 60`.
    public var expectedRequests: Double
    /// Requests the generator attributed to this phase.
    public var requests: Int64
    /// Requests that failed.
    public var errors: Int64

    /// The phase's error rate.
    public var targetErrorRate: Double
    /// `errors / requests`, or 0 without requests.
    public var observedErrorRate: Double
    /// The binomial standard error of the observed rate at the target rate,
    /// `sqrt(p(1 − p)/n)`: the observed rate should be within about 3 of these.
    public var errorRateStandardError: Double

    /// The phase's median latency.
    public var targetP50Milliseconds: Double
    /// From a log-bucketed histogram (within 0.4 %); `nil` without requests.
    public var observedP50Milliseconds: Double?
    /// The phase's 99th-percentile latency.
    public var targetP99Milliseconds: Double
    /// From the same histogram. Note that the sample p99 scatters widely above the target
    /// when the tail to the timeout is long (see ``LatencyDistribution``): its standard
    /// deviation is about `tailSlope·√(0.0099/n)` ms.
    public var observedP99Milliseconds: Double?
    /// The closed-form mean of the latency distribution (before the success clamp).
    public var targetMeanMilliseconds: Double
    /// The mean of the generated durations (successes clamped); `nil` without requests.
    public var observedMeanMilliseconds: Double?

    /// `(requests − expected) / expected`: the relative error of the count.
    public var requestCountDeviation: Double {
        expectedRequests > 0 ? (Double(requests) - expectedRequests) / expectedRequests : 0
    }
}

/// Accumulates generated requests per phase to check them against the scenario (for
/// `levee loadgen --stats` and for tests): counts, error rates, p50, p99 and mean latency.
///
/// Memory is fixed: a few counters and one ``LatencyHistogram`` per phase that has requests.
public struct LoadStatistics: Sendable {
    public let scenario: Scenario
    private var requests: [Int64]
    private var errors: [Int64]
    private var durationSums: [Double]
    private var histograms: [LatencyHistogram]

    public init(scenario: Scenario) {
        self.scenario = scenario
        let phaseCount = scenario.phases.count
        requests = Array(repeating: 0, count: phaseCount)
        errors = Array(repeating: 0, count: phaseCount)
        durationSums = Array(repeating: 0, count: phaseCount)
        histograms = Array(repeating: LatencyHistogram(), count: phaseCount)
    }

    /// Counts one request in the phase it names (requests naming no phase of the scenario are
    /// ignored).
    public mutating func record(_ request: GeneratedRequest) {
        let phase = Int(request.phaseIndex)
        guard phase >= 0 && phase < requests.count else { return }
        requests[phase] += 1
        if !request.isSuccess { errors[phase] += 1 }
        durationSums[phase] += Double(request.duration)
        histograms[phase].record(request.duration)
    }

    /// The total number of recorded requests.
    public var totalRequests: Int64 { requests.reduce(0, +) }

    /// One summary per phase of the scenario, in order.
    public func summary() -> [PhaseSummary] {
        scenario.phases.enumerated().map { index, phase in
            let count = requests[index]
            let p = phase.errorRate
            return PhaseSummary(
                phaseIndex: index, label: phase.label, durationSeconds: phase.durationSeconds, rpm: phase.rpm,
                expectedRequests: phase.expectedRequests, requests: count, errors: errors[index],
                targetErrorRate: p,
                observedErrorRate: count > 0 ? Double(errors[index]) / Double(count) : 0,
                errorRateStandardError: count > 0 ? (p * (1 - p) / Double(count)).squareRoot() : 0,
                targetP50Milliseconds: phase.p50Milliseconds,
                observedP50Milliseconds: histograms[index].quantile(0.5).map { $0 / 1e6 },
                targetP99Milliseconds: phase.p99Milliseconds,
                observedP99Milliseconds: histograms[index].quantile(0.99).map { $0 / 1e6 },
                targetMeanMilliseconds: phase.meanLatencyMilliseconds,
                observedMeanMilliseconds: count > 0 ? durationSums[index] / Double(count) / 1e6 : nil)
        }
    }
}
