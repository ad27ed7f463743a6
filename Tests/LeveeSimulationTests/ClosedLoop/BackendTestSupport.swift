@testable import LeveeSimulation

/// Helpers for the closed-loop backend tests.
enum BackendTestSupport {
    static let second: Int64 = 1_000_000_000
    static let millisecond: Int64 = 1_000_000

    /// A phase with the given shape (latencies in milliseconds, timeout 1.5 s).
    static func phase(seconds: Double, rpm: Int = 6000, errorRate: Double = 0, p50: Double = 50, p99: Double = 150) -> Phase {
        try! Phase(label: "p", durationSeconds: seconds, rpm: rpm, errorRate: errorRate,
                   p50Milliseconds: p50, p99Milliseconds: p99, timeoutMilliseconds: 1500)
    }

    static func scenario(_ phases: [Phase]) -> Scenario {
        try! Scenario(name: "backend-test", phases: phases)
    }

    /// One hour of nominal latency (50/150 ms), no configured errors.
    static let calm = scenario([phase(seconds: 3600)])

    /// A configuration with no background errors, no crashes and a fixed fleet, so that a
    /// test sees only the mechanism it exercises.
    static func quiet(_ model: BackendModel = .realistic, replicas: Int = 1, slots: Int? = nil, queueDepth: Int = 50) -> BackendConfiguration {
        var configuration = BackendConfiguration(model: model)
        configuration.minimumReplicas = replicas
        configuration.maximumReplicas = replicas
        configuration.initialReplicas = replicas
        configuration.slotsPerReplica = slots
        configuration.queueDepthPerReplica = queueDepth
        configuration.baselineErrorRate = 0
        configuration.crashLoad = 1e9
        return configuration
    }

    /// The nominal service time (ns) common random numbers give request `id` in `phase`.
    static func serviceTime(id: UInt64, seed: UInt64, phase: Phase) -> Int64 {
        let draw = CommonRandom.uniform(seed: seed, id: id, purpose: .backendLatency)
        return max(1, Int64(phase.latency.quantile(draw) * 1e6))
    }

    /// Plays `submissions` (instant, id) through the backend in time order, delivering every
    /// completion due before each submission, then drains up to `until`.
    static func run(_ backend: inout Backend, _ submissions: [(at: Int64, id: UInt64)], until end: Int64) -> [BackendCompletion] {
        var completions: [BackendCompletion] = []
        func deliver(upTo instant: Int64) {
            while backend.nextCompletionTime <= instant {
                let due = backend.nextCompletionTime
                backend.advance(to: due)
                completions.append(backend.popCompletion())
            }
            backend.advance(to: instant)
        }
        for submission in submissions {
            deliver(upTo: submission.at)
            backend.submit(BackendRequest(id: submission.id, tag: Int32(truncatingIfNeeded: submission.id)), at: submission.at)
        }
        deliver(upTo: end)
        return completions
    }

    /// Evenly spaced submissions: `rate` per second from `start` for `seconds`, ids from `firstID`.
    static func steady(rate: Double, from start: Int64, seconds: Double, firstID: UInt64 = 1) -> [(at: Int64, id: UInt64)] {
        let count = Int(rate * seconds)
        let gap = 1e9 / rate
        return (0..<count).map { (start + Int64(Double($0) * gap), firstID + UInt64($0)) }
    }
}
