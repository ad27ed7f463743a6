/// What Levee is doing about a dependency.
public enum LeveeState: Sendable, Hashable, CustomStringConvertible {
    /// Every call is admitted.
    case closed
    /// Calls are admitted under a restriction: a concurrency limit (reported here), probabilistic
    /// shedding of the share by which the dependency misses its SLO, or both.
    case throttled(limit: Int)
    /// The dependency is judged down: calls are rejected except for a small, bounded probe budget.
    case open

    /// The state without its associated value, for comparisons and switch statements.
    public var kind: Kind {
        switch self {
        case .closed: .closed
        case .throttled: .throttled
        case .open: .open
        }
    }

    public enum Kind: String, Sendable, Hashable, CaseIterable, Codable {
        case closed, throttled, open
    }

    public var description: String {
        switch self {
        case .closed: "closed"
        case .throttled(let limit): limit == Int.max ? "throttled" : "throttled(limit: \(limit))"
        case .open: "open"
        }
    }
}

/// Why Levee moved from one state to another.
public enum TransitionReason: String, Sendable, Hashable, CaseIterable, Codable {
    /// The success rate fell below the SLO with statistical confidence.
    case sloViolation
    /// The dependency fails so often that it is judged down.
    case dependencyDown
    /// In-flight calls and latency rose beyond what the learned healthy throughput supports.
    case overload
    /// Probes or admitted calls show the dependency meeting its SLO again.
    case recovered
    /// Latency and concurrency returned to what the dependency sustains.
    case capacityRecovered
    /// State was replaced by ``Levee/restore(from:at:)-(LeveeSnapshot,_)``.
    case restored
}

/// A state transition, delivered to observers and to ``Levee/stateChanges(bufferSize:)`` subscribers.
public struct StateChange: Sendable, Hashable, CustomStringConvertible {
    public let from: LeveeState
    public let to: LeveeState
    public let reason: TransitionReason
    /// The instant of the transition, in nanoseconds on the caller's time line.
    public let at: Int64
    /// Position in this Levee's sequence of transitions (1, 2, …): notifications are delivered in
    /// this order.
    public let sequence: UInt64

    public init(from: LeveeState, to: LeveeState, reason: TransitionReason, at: Int64, sequence: UInt64 = 0) {
        self.from = from
        self.to = to
        self.reason = reason
        self.at = at
        self.sequence = sequence
    }

    public var description: String { "\(from) -> \(to) (\(reason.rawValue)) at \(at) ns" }

    /// Two values describe the same transition when they agree on states, reason and instant; the
    /// sequence number only orders delivery.
    public static func == (lhs: StateChange, rhs: StateChange) -> Bool {
        lhs.from == rhs.from && lhs.to == rhs.to && lhs.reason == rhs.reason && lhs.at == rhs.at
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(from)
        hasher.combine(to)
        hasher.combine(reason)
        hasher.combine(at)
    }
}
