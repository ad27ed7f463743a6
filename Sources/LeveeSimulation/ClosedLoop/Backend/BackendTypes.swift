/// A unit of work handed to the ``Backend``.
public struct BackendRequest: Sendable, Hashable {
    /// Candidate-independent identity (the runner derives it from the exogenous arrival index and
    /// the attempt number); with common random numbers it keys every draw for this request.
    public var id: UInt64
    /// Opaque to the backend; returned unchanged with the completion.
    public var tag: Int32

    public init(id: UInt64, tag: Int32) {
        self.id = id
        self.tag = tag
    }
}

/// Why a request ended the way it did.
public enum BackendOutcomeCause: UInt8, Sendable, Hashable, Codable, CaseIterable {
    /// Served without error.
    case success
    /// Submitted while the backend was down, or in flight when it crashed.
    case crashed
    /// The queue was full on arrival.
    case shed
    /// Queue wait plus service time reached the timeout.
    case queueTimeout
    /// The load-driven error probability of the degradation curve.
    case overloadError
    /// The phase's configured error rate, as the backend's own (``BackendModel/phaseDrivesHealth``).
    case dependencyError
    /// The original's small background error rate.
    case baselineError
}

/// What happened to a submitted request, delivered at `completedAt`.
public struct BackendCompletion: Sendable, Hashable {
    public var tag: Int32
    public var id: UInt64
    public var submittedAt: Int64
    public var completedAt: Int64
    public var succeeded: Bool
    public var cause: BackendOutcomeCause
    /// Worker-slot time the backend spent on this request (0 when it never reached a worker).
    /// Work for a request whose client already gave up is wasted work.
    public var busyNanoseconds: Int64

    public init(
        tag: Int32, id: UInt64, submittedAt: Int64, completedAt: Int64, succeeded: Bool,
        cause: BackendOutcomeCause, busyNanoseconds: Int64
    ) {
        self.tag = tag
        self.id = id
        self.submittedAt = submittedAt
        self.completedAt = completedAt
        self.succeeded = succeeded
        self.cause = cause
        self.busyNanoseconds = busyNanoseconds
    }

    /// Submission to completion.
    public var latency: Int64 { completedAt - submittedAt }
}

/// Counters of a backend run. Outcome counters are final: a success later turned into a failure
/// by a crash moves from ``successes`` to ``failures`` (the original forgot to do that).
public struct BackendStatistics: Sendable, Hashable, Codable {
    /// Requests submitted.
    public var requests = 0
    public var successes = 0
    public var failures = 0
    /// Failures by cause (they add up to ``failures``).
    public var shed = 0
    public var queueDrops = 0
    public var overloadErrors = 0
    public var dependencyErrors = 0
    public var baselineErrors = 0
    public var crashFailures = 0
    /// Crash events, and simulated time spent down.
    public var crashes = 0
    public var downtimeNanoseconds: Int64 = 0
    /// Work done: worker-slot time spent on requests (cut short by crashes).
    public var busySlotNanoseconds: Int64 = 0
    /// Capacity paid for: ready replicas integrated over time.
    public var replicaNanoseconds: Int64 = 0
    public var peakReplicas = 0
    /// Autoscaler decisions.
    public var scaleUps = 0
    public var scaleDowns = 0
    /// Largest number of requests waiting in the queue.
    public var peakQueued = 0
    /// Largest smoothed load observed.
    public var peakLoad: Double = 0

    public init() {}

    /// ``replicaNanoseconds`` in replica-seconds.
    public var replicaSeconds: Double { Double(replicaNanoseconds) / 1e9 }
    /// ``busySlotNanoseconds`` in slot-seconds.
    public var busySlotSeconds: Double { Double(busySlotNanoseconds) / 1e9 }

    /// The failure counter of `cause` (0 for ``BackendOutcomeCause/success``).
    public func failures(of cause: BackendOutcomeCause) -> Int {
        switch cause {
        case .success: 0
        case .crashed: crashFailures
        case .shed: shed
        case .queueTimeout: queueDrops
        case .overloadError: overloadErrors
        case .dependencyError: dependencyErrors
        case .baselineError: baselineErrors
        }
    }

    mutating func count(_ cause: BackendOutcomeCause, by delta: Int = 1) {
        switch cause {
        case .success: successes += delta; return
        case .crashed: crashFailures += delta
        case .shed: shed += delta
        case .queueTimeout: queueDrops += delta
        case .overloadError: overloadErrors += delta
        case .dependencyError: dependencyErrors += delta
        case .baselineError: baselineErrors += delta
        }
        failures += delta
    }
}
