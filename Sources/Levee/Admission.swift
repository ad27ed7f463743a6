/// How a call ended, as reported to ``Levee/release(_:outcome:at:)``.
public enum Outcome: Sendable, Hashable, CaseIterable {
    /// The call met its SLO: it counts as a success.
    case success
    /// The call failed (an error, a timeout, a response the caller classifies as bad).
    case failure
    /// The call tells nothing about the dependency (for example, the caller cancelled it).
    /// The permit is released and no sample is recorded.
    case ignored
}

/// Proof that a call was admitted. Hand it back exactly once to ``Levee/release(_:outcome:at:)``.
///
/// A permit is a small copyable value. Releasing it twice, releasing a permit issued before a
/// ``Levee/restore(from:at:)-(LeveeSnapshot,_)``, or handing it to another `Levee` instance is
/// harmless: such a release is recognised, counted as stale and ignored.
public struct Permit: Sendable, Hashable {
    /// The instant of admission, in nanoseconds on the caller's time line.
    public let acquiredAt: Int64
    /// Whether this call was admitted as a probe of a dependency judged down.
    public let isProbe: Bool
    /// In dry-run mode, why this call would have been rejected. `nil` when it would have been
    /// admitted, and always `nil` outside dry-run mode.
    public let wouldHaveBeenRejected: RejectionReason?
    /// Identifies the slot this permit occupies; used to make releases idempotent.
    let slot: UInt32
    let generation: UInt32
    /// The restore epoch the permit belongs to; permits from an older epoch are ignored.
    let epoch: UInt32
    /// The permit table that issued it; permits from another instance are ignored.
    let owner: UInt32
}

/// The answer to ``Levee/acquire(at:)``.
public enum Admission: Sendable, Hashable {
    case admitted(Permit)
    case rejected(Rejection)

    /// The permit, when the call was admitted.
    public var permit: Permit? {
        if case .admitted(let permit) = self { return permit }
        return nil
    }
}

/// Why Levee turned a call away.
public enum RejectionReason: Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// The dependency is judged down: only occasional probes are admitted.
    case circuitOpen
    /// The concurrency limit is reached: more calls in flight would only queue.
    case concurrencyLimit
    /// The dependency misses its SLO, and this call fell in the shed fraction.
    case shedding

    public var description: String {
        switch self {
        case .circuitOpen: "circuit open"
        case .concurrencyLimit: "concurrency limit"
        case .shedding: "probabilistic shedding"
        }
    }
}

/// A rejected call, with the live figures behind the decision. Thrown by ``Levee/run(classify:_:)``.
public struct Rejection: Error, Sendable, Hashable, CustomStringConvertible {
    public let reason: RejectionReason
    /// The estimated success rate of the dependency when the decision was made.
    public let estimatedSuccessRate: Double
    /// The probability with which calls were being shed.
    public let rejectionProbability: Double
    /// The concurrency limit in force, or `nil` when none binds.
    public let concurrencyLimit: Int?
    /// Calls in flight when the decision was made.
    public let inFlight: Int

    public var description: String {
        var text = "Levee rejected the call (\(reason)): estimated success rate "
        text += formatPercent(estimatedSuccessRate) + ", shedding " + formatPercent(rejectionProbability)
        text += ", in flight \(inFlight)"
        if let concurrencyLimit { text += ", limit \(concurrencyLimit)" }
        return text
    }
}

/// Formats a fraction as a percentage with one decimal, without Foundation.
func formatPercent(_ value: Double) -> String {
    guard value.isFinite else { return "n/a" }
    let tenths = Int((value * 1000).rounded())
    return "\(tenths / 10).\(abs(tenths % 10))%"
}

/// Errors from the explicit-time API: misuse that Levee refuses rather than guesses about.
public enum LeveeError: Error, Sendable, Hashable, CustomStringConvertible {
    /// An instant earlier than one Levee has already processed. Time must not go backwards.
    case timeWentBackwards(instant: Int64, latest: Int64)
    /// A release dated before its own acquisition. The permit was released; the sample was dropped.
    case releasedBeforeAcquired(acquiredAt: Int64, releasedAt: Int64)

    public var description: String {
        switch self {
        case .timeWentBackwards(let instant, let latest):
            "time went backwards: instant \(instant) ns is earlier than the latest processed instant \(latest) ns"
        case .releasedBeforeAcquired(let acquiredAt, let releasedAt):
            "permit released at \(releasedAt) ns, before it was acquired at \(acquiredAt) ns; the permit was released and the sample dropped"
        }
    }
}
