public import Levee

/// The ground truth of the open-loop benchmark: a breaker that knows the scenario.
///
/// A phase is unhealthy iff its configured error rate exceeds the SLO's error budget
/// (`errorRate > 1 - successRate`, computed in `Double` exactly as the original does: at SLO 0.90
/// the budget is 0.09999999999999998, so a phase at exactly 10 % errors counts as unhealthy).
/// Latency and the realised error fraction play no part. The oracle is OPEN during unhealthy
/// phases and CLOSED otherwise (also after the scenario's end), on the nominal phase boundaries
/// measured from the simulation start, with zero lag. It never probes and never throttles.
///
/// The original timestamps the oracle's changes at the first arrival after each boundary; here
/// they are the boundaries themselves (a difference below a millisecond at incident traffic).
public struct PrescientOracle: Sendable, Hashable {
    /// A maximal interval during which the oracle is OPEN (consecutive unhealthy phases merge).
    public struct Incident: Sendable, Hashable, Codable {
        /// Nominal start, nanoseconds from the simulation start (inclusive).
        public var start: Int64
        /// Nominal end (exclusive).
        public var end: Int64
        /// Index of the first and last unhealthy phase it spans.
        public var firstPhase: Int
        public var lastPhase: Int

        public var durationNanoseconds: Int64 { end - start }

        public init(start: Int64, end: Int64, firstPhase: Int, lastPhase: Int) {
            self.start = start
            self.end = end
            self.firstPhase = firstPhase
            self.lastPhase = lastPhase
        }

        public func contains(_ instant: Int64) -> Bool { instant >= start && instant < end }
    }

    /// The error rate above which a phase is unhealthy: `1 - successRate`.
    public let errorBudget: Double
    /// Nominal phase starts and the scenario's end, `phases.count + 1` entries.
    public let boundaries: [Int64]
    /// Per phase: whether the oracle is OPEN during it.
    public let unhealthyPhases: [Bool]
    /// The OPEN intervals, in time order.
    public let incidents: [Incident]

    public init(scenario: Scenario, slo: SLO) {
        self.init(phaseDurations: scenario.phases.map(\.durationNanoseconds),
                  errorRates: scenario.phases.map(\.errorRate), errorBudget: slo.errorBudget)
    }

    /// Builds the oracle from bare phase data (durations in nanoseconds).
    public init(phaseDurations: [Int64], errorRates: [Double], errorBudget: Double) {
        precondition(phaseDurations.count == errorRates.count)
        self.errorBudget = errorBudget
        var boundaries: [Int64] = [0]
        for duration in phaseDurations { boundaries.append(boundaries[boundaries.count - 1] + max(0, duration)) }
        self.boundaries = boundaries
        let unhealthy = errorRates.map { $0 > errorBudget }
        self.unhealthyPhases = unhealthy
        var incidents: [Incident] = []
        for (index, isUnhealthy) in unhealthy.enumerated() where isUnhealthy && boundaries[index + 1] > boundaries[index] {
            if var last = incidents.last, last.end == boundaries[index] {
                last.end = boundaries[index + 1]
                last.lastPhase = index
                incidents[incidents.count - 1] = last
            } else {
                incidents.append(Incident(start: boundaries[index], end: boundaries[index + 1], firstPhase: index, lastPhase: index))
            }
        }
        self.incidents = incidents
    }

    /// The scenario's nominal length.
    public var totalDurationNanoseconds: Int64 { boundaries[boundaries.count - 1] }

    /// Total time the oracle is OPEN.
    public var incidentNanoseconds: Int64 { incidents.reduce(0) { $0 + $1.durationNanoseconds } }

    /// Whether the oracle is OPEN at `instant`.
    public func isOpen(at instant: Int64) -> Bool {
        incident(at: instant) != nil
    }

    /// The index in ``incidents`` of the incident containing `instant`, if any.
    public func incident(at instant: Int64) -> Int? {
        // Few incidents: a binary search on their starts.
        var low = 0, high = incidents.count
        while low < high {
            let mid = (low + high) / 2
            if incidents[mid].start <= instant { low = mid + 1 } else { high = mid }
        }
        guard low > 0, incidents[low - 1].contains(instant) else { return nil }
        return low - 1
    }

    /// The latest oracle opening at or before `instant`.
    public func latestOpening(atOrBefore instant: Int64) -> Int64? {
        incidents.last { $0.start <= instant }?.start
    }

    /// The latest oracle closing at or before `instant`.
    public func latestClosing(atOrBefore instant: Int64) -> Int64? {
        incidents.last { $0.end <= instant }?.end
    }

    /// Whether some OPEN interval overlaps the open window (`from`, `to`) — the original's test.
    public func hasIncident(overlappingAfter from: Int64, before to: Int64) -> Bool {
        incidents.contains { $0.start < to && $0.end > from }
    }

    /// A cursor for queries at non-decreasing instants: constant amortised cost per query.
    struct Cursor {
        let oracle: PrescientOracle
        private var index = 0
        private var nextChange: Int64
        private(set) var isOpen = false

        init(oracle: PrescientOracle) {
            self.oracle = oracle
            nextChange = oracle.incidents.first?.start ?? .max
        }

        /// Moves to `instant` (never earlier than the previous call) and returns whether the oracle is OPEN.
        @inline(__always)
        mutating func advance(to instant: Int64) -> Bool {
            if instant >= nextChange { settle(at: instant) }
            return isOpen
        }

        private mutating func settle(at instant: Int64) {
            let incidents = oracle.incidents
            while index < incidents.count, incidents[index].end <= instant { index += 1 }
            if index < incidents.count, incidents[index].start <= instant {
                isOpen = true
                nextChange = incidents[index].end
            } else {
                isOpen = false
                nextChange = index < incidents.count ? incidents[index].start : .max
            }
        }
    }
}
