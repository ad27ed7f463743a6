public import Levee

/// Levee as a benchmark candidate: its decision logic driven directly, with explicit instants.
///
/// This is the same value-type state machine the public ``Levee/Levee`` class wraps behind its
/// lock, so the benchmark measures exactly the decisions a `Levee` instance would make given the
/// same instants, without the lock or the notification machinery.
public struct LeveeCandidate: BenchmarkCandidate {
    private var machine: LeveeStateMachine
    /// The permit of each admitted call, by slot, until its completion.
    private var permits: [Permit?]
    /// Calls the state machine refused to process (time going backwards). Always 0 in a sound run.
    public private(set) var protocolErrors = 0

    /// The ceiling on calls in flight given to the state machine, far above any scenario's need,
    /// so that the limit Levee applies is the one it computes, not a table size.
    public static let maximumInFlight = 65_536

    public init(slo: SLO, slotCapacity: Int) {
        machine = LeveeStateMachine(slo: slo, configuration: .init(dryRun: false, maximumInFlight: Self.maximumInFlight))
        permits = Array(repeating: nil, count: slotCapacity)
    }

    /// The controller's full state, for diagnostics and reports.
    public var state: LeveeState { machine.state }

    public var reportedState: LeveeState.Kind { machine.state.kind }

    public mutating func admit(slot: Int, at instant: Int64) -> Bool {
        do {
            guard let permit = try machine.admit(at: instant) else { return false }
            permits[slot] = permit
            return true
        } catch {
            protocolErrors += 1
            return false
        }
    }

    public mutating func complete(slot: Int, succeeded: Bool, at instant: Int64) {
        guard let permit = permits[slot] else { return }
        permits[slot] = nil
        do {
            try machine.complete(permit, outcome: succeeded ? .success : .failure, at: instant)
        } catch {
            protocolErrors += 1
        }
    }
}
