public import Levee

/// An admission policy the benchmarks can drive: a circuit breaker, a limiter, or a calibration
/// policy. The open-loop and the closed-loop benchmark drive the same candidates.
///
/// Candidates are value types driven on simulated time. The benchmark calls
/// ``admit(slot:at:)`` at every arrival and ``complete(slot:succeeded:at:)`` at the completion of
/// every call it admitted (never for a call it rejected), in global time order. After each call it
/// reads ``reportedState`` to log transitions, as the original benchmark did.
///
/// The run loop is generic over the candidate type, so each candidate's calls are specialised and
/// inlined; there is no dynamic dispatch per event.
public protocol BenchmarkCandidate: SendableMetatype {
    /// The state the scoring sees. A breaker with more internal states maps them onto these three
    /// (a half-open breaker reports ``LeveeState/Kind/open``, as the original's baselines did).
    var reportedState: LeveeState.Kind { get }

    /// Decides whether the call arriving at `instant` (nanoseconds of simulated time) is admitted.
    ///
    /// - Parameter slot: Identifies the call until its completion; always below the
    ///   ``CandidateEnvironment/slotCapacity`` the candidate was made with. A candidate that must
    ///   remember something per call (a permit, a start time) keeps it in a table of that size.
    mutating func admit(slot: Int, at instant: Int64) -> Bool

    /// Reports how an admitted call ended, at `instant`.
    mutating func complete(slot: Int, succeeded: Bool, at instant: Int64)

    /// Calls the candidate could not process because the harness misused it (for example time
    /// going backwards). Reported with the results; always 0 in a sound run.
    var protocolErrors: Int { get }

    /// Whether ``wouldAdmitInBulk(_:through:)`` can ever be true for this candidate type. A
    /// harness skips the bookkeeping for bulk admission when it cannot.
    static var admitsInBulk: Bool { get }

    /// Whether the next `count` calls, arriving in order up to `instant` with no completion
    /// among them, would all be admitted, and ``admit(slot:at:)`` would change nothing but what
    /// ``recordBulkAdmissions(_:through:)`` replays; also while completions of calls it admitted
    /// earlier come in between, until one of them makes this false. False for a breaker that is
    /// open, a limiter that counts calls in flight, or a policy that draws a random number per call.
    ///
    /// A harness may then admit such calls without calling ``admit(slot:at:)``, and must call
    /// ``recordBulkAdmissions(_:through:)`` before any completion later than `instant`. The
    /// open-loop benchmark does this for whole seconds of arrivals, which saves a call per
    /// arrival and, above all, a branch per event on whether it is an arrival.
    func wouldAdmitInBulk(_ count: Int, through instant: Int64) -> Bool

    /// Records that `count` calls arriving up to `instant` were admitted without
    /// ``admit(slot:at:)`` while ``wouldAdmitInBulk(_:through:)`` held for them (asked through
    /// `instant` or a later instant). Completions between and after those calls may already have
    /// been reported, but none later than the instant that was asked about.
    mutating func recordBulkAdmissions(_ count: Int, through instant: Int64)
}

extension BenchmarkCandidate {
    public var protocolErrors: Int { 0 }
    public static var admitsInBulk: Bool { false }
    public func wouldAdmitInBulk(_ count: Int, through instant: Int64) -> Bool { false }
    public mutating func recordBulkAdmissions(_ count: Int, through instant: Int64) {}
}

/// What a candidate factory gets to build a candidate for one run.
public struct CandidateEnvironment: Sendable {
    /// The SLO the run is scored against (the Prescient oracle uses its success rate).
    public var slo: SLO
    /// Upper bound (exclusive) of the `slot` values passed to the candidate.
    public var slotCapacity: Int

    public init(slo: SLO, slotCapacity: Int) {
        self.slo = slo
        self.slotCapacity = slotCapacity
    }
}
