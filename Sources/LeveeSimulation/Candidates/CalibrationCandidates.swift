public import Levee

/// Calibration candidate: admits every call and never leaves ``LeveeState/Kind/closed``.
public struct AllowAll: BenchmarkCandidate, Sendable, Hashable {
    public init() {}
    public var reportedState: LeveeState.Kind { .closed }
    public mutating func admit(slot: Int, at instant: Int64) -> Bool { true }
    public mutating func complete(slot: Int, succeeded: Bool, at instant: Int64) {}
}

/// Calibration candidate: rejects every call and never leaves ``LeveeState/Kind/open``.
public struct BlockAll: BenchmarkCandidate, Sendable, Hashable {
    public init() {}
    public var reportedState: LeveeState.Kind { .open }
    public mutating func admit(slot: Int, at instant: Int64) -> Bool { false }
    public mutating func complete(slot: Int, succeeded: Bool, at instant: Int64) {}
}
