import Levee
import LeveeSimulation

/// Helpers shared by the open-loop, scoring and static-breaker tests.
enum TestSupport {
    static let second: Int64 = 1_000_000_000

    static func slo(_ rate: Double = 0.90) -> SLO {
        try! SLO(successRate: rate, timeout: .milliseconds(1500))
    }

    /// A scenario of phases given as (seconds, rpm, error rate), nominal latency.
    static func scenario(_ phases: [(seconds: Double, rpm: Int, errorRate: Double)], name: String = "test") -> Scenario {
        let built = phases.map { phase in
            try! Phase(label: "p", durationSeconds: phase.seconds, rpm: phase.rpm, errorRate: phase.errorRate,
                       p50Milliseconds: 50, p99Milliseconds: 150, timeoutMilliseconds: 1500)
        }
        return try! Scenario(name: name, phases: built)
    }

    /// A request for hand-built streams: start and duration in nanoseconds.
    struct Request {
        var start: Int64
        var duration: Int64
        var success: Bool
    }

    /// Turns requests into stream events in global time order (ends before starts at the same
    /// instant; request IDs in start order, 1-based).
    static func events(_ requests: [Request]) -> [StreamEvent] {
        let ordered = requests.sorted { $0.start < $1.start }
        var events: [(time: Int64, rank: Int, sequence: Int, event: StreamEvent)] = []
        for (index, request) in ordered.enumerated() {
            let generated = GeneratedRequest(start: request.start, duration: request.duration, isSuccess: request.success, phaseIndex: 0)
            let id = Int64(index + 1)
            events.append((request.start, 1, index, StreamEvent(kind: .start, requestID: id, request: generated)))
            events.append((request.start + request.duration, 0, index,
                           StreamEvent(kind: request.success ? .success : .failure, requestID: id,
                                       request: generated)))
        }
        events.sort { ($0.time, $0.rank, $0.sequence) < ($1.time, $1.rank, $1.sequence) }
        return events.map(\.event)
    }

    /// A candidate that admits according to a schedule, for scoring tests.
    struct Scripted: BenchmarkCandidate {
        /// Admit iff this returns true for the arrival instant.
        var admits: @Sendable (Int64) -> Bool
        /// The state to report for an instant.
        var state: @Sendable (Int64) -> LeveeState.Kind
        private var now: Int64 = 0

        init(admits: @escaping @Sendable (Int64) -> Bool, state: @escaping @Sendable (Int64) -> LeveeState.Kind = { _ in .closed }) {
            self.admits = admits
            self.state = state
        }

        var reportedState: LeveeState.Kind { state(now) }
        mutating func admit(slot: Int, at instant: Int64) -> Bool {
            now = instant
            return admits(instant)
        }
        mutating func complete(slot: Int, succeeded: Bool, at instant: Int64) { now = instant }
    }

    static func scripted(_ identifier: String, admits: @escaping @Sendable (Int64) -> Bool,
                         state: @escaping @Sendable (Int64) -> LeveeState.Kind = { _ in .closed }) -> CandidateDescriptor {
        CandidateDescriptor(identifier: identifier, displayName: identifier, summary: "scripted") { _ in
            Scripted(admits: admits, state: state)
        }
    }
}
