/// The original's epoch score, kept incrementally: outcomes are bucketed into 200 ms epochs by
/// the instant the client sees them, and each epoch's successes s and failures f add s² and f²
/// to two sums. SuccessScore = √(5 Σ s²), FailureScore = √(5 Σ f²), and
/// Delta = (SuccessScore − FailureScore) × allowed ÷ (allowed + blocked). Higher is better.
///
/// Outcomes must be recorded in time order (the event loop's order), so only the current
/// epoch is held: fixed memory whatever the run's length.
public struct EpochScore: Sendable, Hashable {
    /// The epoch length of the original: 200 ms.
    public static let epochNanoseconds: Int64 = 200_000_000

    private var epoch: Int64 = .min
    private var epochSuccesses: Int64 = 0
    private var epochFailures: Int64 = 0
    private var successSquares: Double = 0
    private var failureSquares: Double = 0
    public private(set) var successes = 0
    public private(set) var failures = 0

    public init() {}

    /// Adds one outcome seen at `instant` (non-decreasing).
    @inline(__always)
    public mutating func record(succeeded: Bool, at instant: Int64) {
        let current = instant / Self.epochNanoseconds
        if current != epoch { closeEpoch(next: current) }
        if succeeded {
            epochSuccesses &+= 1
            successes &+= 1
        } else {
            epochFailures &+= 1
            failures &+= 1
        }
    }

    /// Adds an epoch's counts directly (tests, and replays of published per-epoch counts).
    public mutating func addEpoch(successes s: Int, failures f: Int) {
        closeEpoch(next: .min)
        successSquares += Double(s) * Double(s)
        failureSquares += Double(f) * Double(f)
        successes += s
        failures += f
    }

    private mutating func closeEpoch(next: Int64) {
        successSquares += Double(epochSuccesses) * Double(epochSuccesses)
        failureSquares += Double(epochFailures) * Double(epochFailures)
        epochSuccesses = 0
        epochFailures = 0
        epoch = next
    }

    /// √(5 Σ s²), including the epoch in progress.
    public var successScore: Double {
        (5 * (successSquares + Double(epochSuccesses) * Double(epochSuccesses))).squareRoot()
    }

    /// √(5 Σ f²), including the epoch in progress.
    public var failureScore: Double {
        (5 * (failureSquares + Double(epochFailures) * Double(epochFailures))).squareRoot()
    }

    /// The original's Delta for a run that admitted `allowed` calls and blocked `blocked`.
    public static func delta(successScore: Double, failureScore: Double, allowed: Int, blocked: Int) -> Double {
        let offered = allowed + blocked
        guard offered > 0 else { return 0 }
        return (successScore - failureScore) * Double(allowed) / Double(offered)
    }
}
