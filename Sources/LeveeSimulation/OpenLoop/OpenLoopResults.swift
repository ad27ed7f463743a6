public import Levee

/// A state change of a candidate, as the benchmark logged it.
public struct CandidateTransition: Sendable, Hashable, Codable {
    /// Nanoseconds from the simulation start (the instant of the event that caused it).
    public var time: Int64
    public var from: LeveeState.Kind
    public var to: LeveeState.Kind

    public init(time: Int64, from: LeveeState.Kind, to: LeveeState.Kind) {
        self.time = time
        self.from = from
        self.to = to
    }
}

/// One candidate's results on one seed: every column of the summary table, and more.
public struct CandidateResult: Sendable, Hashable, Codable {
    /// Command-line identifier (`static-peak`).
    public var identifier: String
    /// Display name (`Static-Peak`).
    public var name: String
    /// Requests admitted.
    public var allowed: Int
    /// Requests rejected.
    public var blocked: Int
    /// √Σ bad_t² (admitted while the oracle was OPEN, per start second).
    public var badTraffic: Double
    /// √Σ lost_t² (blocked while the oracle was CLOSED, per start second).
    public var lostBusiness: Double
    /// BadTraffic + LostBusiness.
    public var totalPenalty: Double
    /// How many transitions fell in each class (and the entries into THROTTLED).
    public var transitions: TransitionCounts
    /// Incidents during which the candidate stayed CLOSED throughout.
    public var missedIncidents: Int
    /// Requests the candidate blocked that the oracle would have admitted and that would have succeeded.
    public var goodBlocked: Int
    /// Requests the candidate admitted that the oracle would have blocked and that failed.
    public var badAllowed: Int
    /// The candidate's response to each incident.
    public var incidents: [IncidentResponse]
    /// Calls the candidate refused to process (harness misuse); 0 in a sound run.
    public var protocolErrors: Int

    public var penalty: PenaltyScore { PenaltyScore(badTraffic: badTraffic, lostBusiness: lostBusiness) }
}

/// What the Prescient oracle would have done on this seed.
public struct PrescientCounts: Sendable, Hashable, Codable {
    /// Requests that actually arrived while the oracle was OPEN: what it really blocks.
    public var requestsDuringIncidents: Int
    /// The figure the original prints in its Prescient row: for each incident,
    /// `Int(total requests × incident duration / run duration)`, summed. A time-proportional
    /// estimate, far below the real count because incidents come with 15-48x traffic.
    public var timeProportionalEstimate: Int
    /// Nominal incident time, seconds.
    public var incidentSeconds: Double
    /// From the first to the last stream event, seconds (the original's run duration).
    public var runSeconds: Double
}

/// The results of one seed.
public struct SeedResult: Sendable, Hashable, Codable {
    public var seed: UInt64
    /// Requests the generator produced for this seed.
    public var requestCount: Int
    /// Start and end events processed (twice the request count).
    public var eventCount: Int
    public var prescient: PrescientCounts
    /// Requests whose start fell beyond the series' last second (normally 0).
    public var requestsBeyondSeries: Int
    /// In the configuration's candidate order.
    public var candidates: [CandidateResult]

    /// The candidate with this identifier.
    public func result(for identifier: String) -> CandidateResult? {
        candidates.first { $0.identifier == identifier }
    }
}

/// Per-second series of one seed, for charts. Fixed-size arrays: one entry per second.
public struct SeedSeries: Sendable, Hashable {
    /// One candidate's series.
    public struct Candidate: Sendable, Hashable {
        public var identifier: String
        public var name: String
        /// The state before the first transition.
        public var initialState: LeveeState.Kind
        /// Requests admitted, by start second.
        public var admittedPerSecond: [Int32]
        /// Every state change, in time order.
        public var transitions: [CandidateTransition]
        /// The same transitions with the oracle's state and their class.
        public var classified: [ClassifiedTransition]
    }

    public var seed: UInt64
    /// Requests started, by second.
    public var offeredPerSecond: [Int32]
    public var candidates: [Candidate]
}

/// A sample mean with its 95 % Student-t confidence interval.
public struct Estimate: Sendable, Hashable, Codable {
    public var mean: Double
    /// Half-width of the 95 % confidence interval; `nil` with fewer than two samples.
    public var halfWidth: Double?
    /// The sample standard deviation; `nil` with fewer than two samples.
    public var standardDeviation: Double?
    /// The number of samples (seeds).
    public var count: Int

    public init<Values: Collection>(_ values: Values, confidence: Double = 0.95) where Values.Element == Double {
        count = values.count
        mean = values.isEmpty ? .nan : values.reduce(0, +) / Double(values.count)
        guard values.count >= 2 else {
            halfWidth = nil
            standardDeviation = nil
            return
        }
        let mean = self.mean
        let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(values.count - 1)
        let deviation = variance.squareRoot()
        standardDeviation = deviation
        let quantile = StudentT.quantile(probability: 0.5 + confidence / 2, degreesOfFreedom: Double(values.count - 1))
        halfWidth = quantile * deviation / Double(values.count).squareRoot()
    }

    /// The interval's bounds, when defined.
    public var interval: ClosedRange<Double>? {
        halfWidth.map { (mean - $0)...(mean + $0) }
    }
}

/// The columns of the summary table, for aggregation and printing.
public enum ResultColumn: String, Sendable, Hashable, Codable, CaseIterable {
    case blocked, allowed, flapping, falseAlarms, lateDetections, badTraffic, lostBusiness, totalPenalty
    case goodDetections, prematureRecoveries, slowRecoveries, missedIncidents, throttles, goodBlocked, badAllowed

    /// The column heading; the first nine are the original's.
    public var heading: String {
        switch self {
        case .blocked: "Blocked"
        case .allowed: "Allowed"
        case .flapping: "Flap"
        case .falseAlarms: "FalseAlarm"
        case .lateDetections: "LateDetect"
        case .badTraffic: "BadTraffic"
        case .lostBusiness: "LostBusiness"
        case .totalPenalty: "TotalPenalty"
        case .goodDetections: "GoodDetect"
        case .prematureRecoveries: "Premature"
        case .slowRecoveries: "SlowRecov"
        case .missedIncidents: "Missed"
        case .throttles: "Throttles"
        case .goodBlocked: "GoodBlocked"
        case .badAllowed: "BadAllowed"
        }
    }

    /// The column's value in a result.
    public func value(in result: CandidateResult) -> Double {
        switch self {
        case .blocked: Double(result.blocked)
        case .allowed: Double(result.allowed)
        case .flapping: Double(result.transitions.flapping)
        case .falseAlarms: Double(result.transitions.falseAlarms)
        case .lateDetections: Double(result.transitions.lateDetections)
        case .badTraffic: result.badTraffic
        case .lostBusiness: result.lostBusiness
        case .totalPenalty: result.totalPenalty
        case .goodDetections: Double(result.transitions.goodDetections)
        case .prematureRecoveries: Double(result.transitions.prematureRecoveries)
        case .slowRecoveries: Double(result.transitions.slowRecoveries)
        case .missedIncidents: Double(result.missedIncidents)
        case .throttles: Double(result.transitions.throttles)
        case .goodBlocked: Double(result.goodBlocked)
        case .badAllowed: Double(result.badAllowed)
        }
    }
}

/// A candidate's results over all seeds: the mean and 95 % CI of every column.
public struct CandidateAggregate: Sendable, Hashable, Codable {
    public var identifier: String
    public var name: String
    /// Keyed by ``ResultColumn`` raw value.
    public var estimates: [String: Estimate]

    public subscript(column: ResultColumn) -> Estimate? { estimates[column.rawValue] }
}

/// Everything one benchmark run produced.
public struct BenchmarkResult: Sendable, Hashable, Codable {
    /// The scenario's name.
    public var scenario: String
    public var phaseCount: Int
    /// The scenario's nominal length.
    public var scenarioSeconds: Double
    /// The SLO's success rate.
    public var successRate: Double
    public var sloTimeoutMilliseconds: Double
    /// `go` or `fast`.
    public var generator: String
    public var seeds: [UInt64]
    /// The incidents of the oracle (nominal), identical for every seed.
    public var incidents: [PrescientOracle.Incident]
    /// Per seed, in the order of ``seeds``.
    public var seedResults: [SeedResult]
    /// Per candidate, in configuration order.
    public var aggregates: [CandidateAggregate]
    /// Wall-clock time of the simulation itself (excluding reporting), seconds.
    public var wallSeconds: Double
    /// Worker threads used.
    public var parallelism: Int
    /// CPU seconds of each worker thread. On an idle machine the wall time is close to the
    /// largest; when other processes compete for the cores it is longer.
    public var threadCPUSeconds: [Double] = []
    /// Per-second series of one seed, when requested (not encoded).
    public var series: SeedSeries?

    private enum CodingKeys: String, CodingKey {
        case scenario, phaseCount, scenarioSeconds, successRate, sloTimeoutMilliseconds, generator, seeds
        case incidents, seedResults, aggregates, wallSeconds, parallelism, threadCPUSeconds
    }

    /// Mean request count over seeds.
    public var meanRequestCount: Double {
        seedResults.isEmpty ? 0 : Double(seedResults.reduce(0) { $0 + $1.requestCount }) / Double(seedResults.count)
    }

    static func aggregate(_ seedResults: [SeedResult]) -> [CandidateAggregate] {
        guard let first = seedResults.first else { return [] }
        return first.candidates.map { candidate in
            let results = seedResults.compactMap { $0.result(for: candidate.identifier) }
            var estimates: [String: Estimate] = [:]
            for column in ResultColumn.allCases {
                estimates[column.rawValue] = Estimate(results.map { column.value(in: $0) })
            }
            return CandidateAggregate(identifier: candidate.identifier, name: candidate.name, estimates: estimates)
        }
    }
}
