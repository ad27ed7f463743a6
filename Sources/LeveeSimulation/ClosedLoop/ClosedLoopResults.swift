/// One candidate's closed-loop results on one seed.
///
/// The first block is the original's table (on attempts: each attempt a candidate sees is one
/// of the original's requests); the rest map to SLOs and are defined in `docs/benchmarks.md`.
public struct ClosedLoopCandidateResult: Sendable, Hashable, Codable {
    public var identifier: String
    public var name: String

    // The original's columns.
    /// Attempts the candidate rejected.
    public var blocked: Int
    /// Attempts the candidate admitted (each ends in exactly one success or failure).
    public var allowed: Int
    /// Admitted attempts that succeeded within the client's deadline.
    public var successes: Int
    /// Admitted attempts that failed, including timeouts at the deadline.
    public var failures: Int
    public var successScore: Double
    public var failureScore: Double
    public var delta: Double
    /// The most calls in flight at one instance, seen at an admission while it was not open.
    public var maxConcurrency: Int

    // Client side.
    /// Exogenous requests (first attempts).
    public var offered: Int
    /// Requests that succeeded within the SLO timeout of their arrival, retries included.
    public var goodput: Int
    /// Requests that succeeded at some attempt, however late.
    public var requestsSucceeded: Int
    /// Fraction of the minutes with arrivals in which goodput ÷ offered (by arrival minute)
    /// reached the SLO success rate.
    public var sloAttainment: Double
    public var minutesMeasured: Int
    /// Client-visible latency of admitted attempts (to the outcome or the deadline).
    public var latencyP50Milliseconds: Double
    public var latencyP99Milliseconds: Double
    /// Admitted attempts whose deadline passed before the backend answered.
    public var timeouts: Int
    /// Retry attempts sent (admitted or not).
    public var retries: Int
    /// Retries the budget refused.
    public var retriesDenied: Int
    /// Backend busy time, in slot-seconds, spent on attempts that could not answer their client in
    /// time: answers after the client's deadline, and the backend's own queue timeouts.
    public var wastedWorkSeconds: Double
    /// Backend answers that came after the client's deadline.
    public var lateAnswers: Int
    /// Rejected attempts that would have succeeded, estimated: the backend was up, its load
    /// caused no overload errors, and the attempt's own health draw passed (see the docs).
    public var blockedWouldSucceed: Int
    /// Admissions by an instance that reported open (probes), and those while the backend was down.
    public var probes: Int
    public var probesDuringOutage: Int

    /// The backend's own counters.
    public var backend: BackendStatistics
    /// Calls the candidate refused to process (harness misuse); 0 in a sound run.
    public var protocolErrors: Int

    /// Goodput as a fraction of offered requests.
    public var goodputRatio: Double { offered == 0 ? 0 : Double(goodput) / Double(offered) }
}

/// The results of one seed, candidates in configuration order.
public struct ClosedLoopSeedResult: Sendable, Hashable, Codable {
    public var seed: UInt64
    public var candidates: [ClosedLoopCandidateResult]

    public func result(for identifier: String) -> ClosedLoopCandidateResult? {
        candidates.first { $0.identifier == identifier }
    }
}

/// The numeric columns aggregated over seeds.
public enum ClosedLoopColumn: String, Sendable, Hashable, Codable, CaseIterable {
    case blocked, allowed, successes, failures, successScore, failureScore, delta, maxConcurrency
    case goodput, goodputRatio, sloAttainment, latencyP50, latencyP99, timeouts, retries, wastedWork
    case blockedWouldSucceed, probes, probesDuringOutage, crashes, downtime

    public var heading: String {
        switch self {
        case .blocked: "Blocked"
        case .allowed: "Allowed"
        case .successes: "Successes"
        case .failures: "Failures"
        case .successScore: "SuccessScore"
        case .failureScore: "FailureScore"
        case .delta: "Delta"
        case .maxConcurrency: "MaxConc"
        case .goodput: "Goodput"
        case .goodputRatio: "Goodput%"
        case .sloAttainment: "SLOmin%"
        case .latencyP50: "p50 ms"
        case .latencyP99: "p99 ms"
        case .timeouts: "Timeouts"
        case .retries: "Retries"
        case .wastedWork: "Wasted s"
        case .blockedWouldSucceed: "BlockedGood"
        case .probes: "Probes"
        case .probesDuringOutage: "OutageProbes"
        case .crashes: "Crashes"
        case .downtime: "Down s"
        }
    }

    public func value(in result: ClosedLoopCandidateResult) -> Double {
        switch self {
        case .blocked: Double(result.blocked)
        case .allowed: Double(result.allowed)
        case .successes: Double(result.successes)
        case .failures: Double(result.failures)
        case .successScore: result.successScore
        case .failureScore: result.failureScore
        case .delta: result.delta
        case .maxConcurrency: Double(result.maxConcurrency)
        case .goodput: Double(result.goodput)
        case .goodputRatio: 100 * result.goodputRatio
        case .sloAttainment: 100 * result.sloAttainment
        case .latencyP50: result.latencyP50Milliseconds
        case .latencyP99: result.latencyP99Milliseconds
        case .timeouts: Double(result.timeouts)
        case .retries: Double(result.retries)
        case .wastedWork: result.wastedWorkSeconds
        case .blockedWouldSucceed: Double(result.blockedWouldSucceed)
        case .probes: Double(result.probes)
        case .probesDuringOutage: Double(result.probesDuringOutage)
        case .crashes: Double(result.backend.crashes)
        case .downtime: Double(result.backend.downtimeNanoseconds) / 1e9
        }
    }
}

/// A candidate's results over all seeds: every column's mean and 95 % CI, and its Delta paired
/// by seed against the best other candidate.
public struct ClosedLoopAggregate: Sendable, Hashable, Codable {
    public var identifier: String
    public var name: String
    /// Keyed by ``ClosedLoopColumn`` raw value.
    public var estimates: [String: Estimate]
    /// The candidate this one is compared with: the highest mean Delta among the others
    /// (AllowAll excluded unless it is the only other).
    public var comparedWith: String?
    /// Per seed, this candidate's Delta minus the compared candidate's; mean and 95 % CI.
    public var pairedDeltaDifference: Estimate?

    public subscript(column: ClosedLoopColumn) -> Estimate? { estimates[column.rawValue] }
}

/// Everything one closed-loop run produced.
public struct ClosedLoopResult: Sendable, Hashable, Codable {
    public var scenario: String
    public var phaseCount: Int
    public var scenarioSeconds: Double
    public var successRate: Double
    public var sloTimeoutMilliseconds: Double
    /// `original` or `realistic` (or `custom`).
    public var model: String
    public var clients: String
    public var instances: Int
    public var queueDepthPerReplica: Int
    public var loadScale: Double
    public var errorScale: Double
    public var seeds: [UInt64]
    public var seedResults: [ClosedLoopSeedResult]
    public var aggregates: [ClosedLoopAggregate]
    public var wallSeconds: Double
    public var parallelism: Int
    /// Series of one seed for the report, when requested (not encoded).
    public var series: ClosedLoopSeedSeries? = nil

    private enum CodingKeys: String, CodingKey {
        case scenario, phaseCount, scenarioSeconds, successRate, sloTimeoutMilliseconds, model, clients, instances
        case queueDepthPerReplica, loadScale, errorScale, seeds, seedResults, aggregates, wallSeconds, parallelism
    }

    /// The aggregate of a candidate.
    public func aggregate(for identifier: String) -> ClosedLoopAggregate? {
        aggregates.first { $0.identifier == identifier }
    }

    /// Means and intervals per candidate, and each candidate's paired Delta difference against
    /// the best *other* candidate (by mean Delta; AllowAll only when nothing else is there).
    static func aggregate(_ seedResults: [ClosedLoopSeedResult]) -> [ClosedLoopAggregate] {
        guard let first = seedResults.first else { return [] }
        var aggregates = first.candidates.map { candidate in
            let results = seedResults.compactMap { $0.result(for: candidate.identifier) }
            var estimates: [String: Estimate] = [:]
            for column in ClosedLoopColumn.allCases {
                estimates[column.rawValue] = Estimate(results.map { column.value(in: $0) })
            }
            return ClosedLoopAggregate(identifier: candidate.identifier, name: candidate.name, estimates: estimates)
        }
        let meanDelta = Dictionary(uniqueKeysWithValues: aggregates.map { ($0.identifier, $0[.delta]?.mean ?? -.infinity) })
        for index in aggregates.indices {
            let identifier = aggregates[index].identifier
            let others = aggregates.map(\.identifier).filter { $0 != identifier }
            let preferred = others.filter { $0 != CandidateDescriptor.allowAll.identifier }
            let pool = preferred.isEmpty ? others : preferred
            guard let best = pool.max(by: { meanDelta[$0]! < meanDelta[$1]! }) else { continue }
            let differences = seedResults.compactMap { seed -> Double? in
                guard let mine = seed.result(for: identifier), let theirs = seed.result(for: best) else { return nil }
                return mine.delta - theirs.delta
            }
            aggregates[index].comparedWith = best
            aggregates[index].pairedDeltaDifference = Estimate(differences)
        }
        return aggregates
    }
}

/// The series of every candidate on one seed, in configuration order.
public struct ClosedLoopSeedSeries: Sendable, Hashable {
    public var seed: UInt64
    public var candidates: [ClosedLoopSeries]
}
