/// An ordered list of ``Phase``s played back to back on simulated time.
///
/// Phase boundaries here are *nominal* (cumulative durations). The ``LoadGenerator`` drifts
/// from them by one inter-arrival overshoot per boundary, exactly as the Go original does.
public struct Scenario: Sendable, Hashable {
    /// A name for reports, such as `"cyber-monday"`.
    public var name: String
    /// The phases, in playback order.
    public var phases: [Phase] {
        didSet { (phaseStartNanoseconds, totalDurationNanoseconds) = Self.boundaries(of: phases) }
    }

    /// The nominal start of each phase, in nanoseconds from the scenario start (the first is 0).
    /// Kept up to date with ``phases`` so that lookups cost no allocation.
    public private(set) var phaseStartNanoseconds: [Int64]

    /// The sum of the phase durations, in nanoseconds.
    public private(set) var totalDurationNanoseconds: Int64

    /// - Throws: ``ScenarioError`` when `phases` is empty or lasts
    ///   ``maximumTotalDurationSeconds`` or more in all.
    public init(name: String, phases: [Phase]) throws(ScenarioError) {
        try self.init(name: name, phases: phases, lines: nil)
    }

    /// `lines` holds the source line of each phase (a CSV's), so that an error can name it.
    init(name: String, phases: [Phase], lines: [Int]?) throws(ScenarioError) {
        guard !phases.isEmpty else {
            throw ScenarioError(message: "scenario \"\(name)\" has no phases")
        }
        if let (index, error) = Self.overlongPhase(in: phases) {
            var located = error
            located.line = lines?[index]
            throw located
        }
        self.name = name
        self.phases = phases
        (phaseStartNanoseconds, totalDurationNanoseconds) = Self.boundaries(of: phases)
    }

    /// About 127 years of simulated time: with a request's timeout (under 10⁹ s, see ``Phase``)
    /// every instant of a run stays well inside Int64 nanoseconds.
    public static let maximumTotalDurationSeconds: Double = 4e9

    /// The first phase (by index) at whose end the scenario has lasted
    /// ``maximumTotalDurationSeconds`` or more, with the error that says so.
    private static func overlongPhase(in phases: [Phase]) -> (index: Int, error: ScenarioError)? {
        var total = 0.0
        for (index, phase) in phases.enumerated() {
            total += phase.durationSeconds
            if total >= maximumTotalDurationSeconds {
                return (index, ScenarioError(
                    column: "duration_s",
                    message: "phases 1 to \(index + 1) last \(total) s in all; a scenario must last less than \(maximumTotalDurationSeconds) s"))
            }
        }
        return nil
    }

    private static func boundaries(of phases: [Phase]) -> (starts: [Int64], total: Int64) {
        var starts: [Int64] = []
        starts.reserveCapacity(phases.count)
        var elapsed: Int64 = 0
        for phase in phases {
            starts.append(elapsed)
            let (sum, overflow) = elapsed.addingReportingOverflow(phase.durationNanoseconds)
            // Only phases changed after validation can get here: the initializer bounds the total.
            precondition(!overflow, "the phases last longer than Int64 nanoseconds can count")
            elapsed = sum
        }
        return (starts, elapsed)
    }

    /// The index of the phase whose nominal window `[start, start + duration)` contains
    /// `instant`, or `nil` before 0 or at and past the end of the scenario.
    public func phaseIndex(atNominal instant: Int64) -> Int? {
        guard instant >= 0, instant < totalDurationNanoseconds else { return nil }
        let starts = phaseStartNanoseconds
        // The last start that is <= instant (binary search; starts are strictly increasing).
        var low = 0
        var high = starts.count - 1
        while low < high {
            let middle = (low + high + 1) / 2
            if starts[middle] <= instant {
                low = middle
            } else {
                high = middle - 1
            }
        }
        return low
    }

    /// The number of requests the scenario should produce on average.
    public var expectedRequests: Double {
        phases.reduce(0) { $0 + $1.expectedRequests }
    }
}
