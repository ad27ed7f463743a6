/// Which random number generator drives a ``LoadGenerator``.
public enum GeneratorMode: String, Sendable, CaseIterable {
    /// Go's `math/rand/v2` PCG, ziggurat exponential and 53-bit uniforms, bit for bit: the same
    /// seed gives exactly the Go loadgen's request stream.
    case goCompatible = "go"
    /// The same variate algorithms on xoshiro256++: statistically equivalent, cheaper per draw,
    /// not identical to Go. Two draws per request instead of three: the outcome's uniform is
    /// the 24 bits of the exponential's draw that the ziggurat leaves unused.
    case fast
}

/// One synthetic request: when it arrives, how long it takes and whether it fails.
public struct GeneratedRequest: Sendable, Hashable {
    /// Arrival time in nanoseconds from the simulation start (the first request is at 0).
    public var start: Int64
    /// Latency in whole nanoseconds (truncated, as in Go).
    public var duration: Int64
    /// `false` for an error; decided by the phase's error rate alone.
    public var isSuccess: Bool
    /// The index in ``Scenario/phases`` of the phase that generated the request.
    public var phaseIndex: Int32

    public init(start: Int64, duration: Int64, isSuccess: Bool, phaseIndex: Int32) {
        self.start = start
        self.duration = duration
        self.isSuccess = isSuccess
        self.phaseIndex = phaseIndex
    }

    /// When the request completes: `start + duration`.
    public var end: Int64 { start + duration }
}
