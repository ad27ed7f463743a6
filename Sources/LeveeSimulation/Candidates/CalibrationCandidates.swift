public import Levee

/// Calibration candidate: admits every call and never leaves ``LeveeState/Kind/closed``.
public struct AllowAll: BenchmarkCandidate, FixedDecisionCandidate, Sendable, Hashable {
    static var admitsEveryCall: Bool { true }
    public init() {}
    public var reportedState: LeveeState.Kind { .closed }
    public mutating func admit(slot: Int, at instant: Int64) -> Bool { true }
    public mutating func complete(slot: Int, succeeded: Bool, at instant: Int64) {}
}

/// Calibration candidate: rejects every call and never leaves ``LeveeState/Kind/open``.
public struct BlockAll: BenchmarkCandidate, FixedDecisionCandidate, Sendable, Hashable {
    static var admitsEveryCall: Bool { false }
    public init() {}
    public var reportedState: LeveeState.Kind { .open }
    public mutating func admit(slot: Int, at instant: Int64) -> Bool { false }
    public mutating func complete(slot: Int, succeeded: Bool, at instant: Int64) {}
}

/// A candidate whose every decision is the same whatever it has seen, and whose state never
/// changes. Its open-loop outcome is a function of the stream alone, so the harness derives it
/// from tallies the feed keeps anyway instead of walking every event through a lane: a lane costs
/// about 5 ns per event even when its candidate decides nothing, mostly for the mispredicted
/// branch on the event's kind.
protocol FixedDecisionCandidate: BenchmarkCandidate {
    static var admitsEveryCall: Bool { get }
}

/// What a ``FixedDecisionCandidate`` decides, and the state it reports throughout.
struct FixedDecision: Sendable {
    var admitsEveryCall: Bool
    var reportedState: LeveeState.Kind
}
