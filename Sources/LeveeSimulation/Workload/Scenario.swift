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

    /// - Throws: ``ScenarioError`` when `phases` is empty.
    public init(name: String, phases: [Phase]) throws(ScenarioError) {
        guard !phases.isEmpty else {
            throw ScenarioError(message: "scenario \"\(name)\" has no phases")
        }
        self.name = name
        self.phases = phases
        (phaseStartNanoseconds, totalDurationNanoseconds) = Self.boundaries(of: phases)
    }

    private static func boundaries(of phases: [Phase]) -> (starts: [Int64], total: Int64) {
        var starts: [Int64] = []
        starts.reserveCapacity(phases.count)
        var elapsed: Int64 = 0
        for phase in phases {
            starts.append(elapsed)
            elapsed += phase.durationNanoseconds
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
