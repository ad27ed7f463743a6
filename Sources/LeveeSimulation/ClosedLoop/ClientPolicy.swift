/// How the simulated clients behave when an attempt fails: whether they retry, after what
/// delay, and how many retries a retry budget lets through.
///
/// Every attempt has its own timeout (the SLO timeout, 1.5 s by default), as a client library
/// with a per-try deadline does. A rejection by the candidate is an immediate failure, so a
/// breaker that fails fast lets clients retry sooner: its decisions change the load it sees.
public struct ClientPolicy: Sendable, Hashable, Codable, CustomStringConvertible {
    /// When a failed attempt is tried again.
    public enum Retry: Sendable, Hashable, Codable {
        /// Never: one attempt per request (the Go original's clients).
        case none
        /// At once, up to `maxAttempts` attempts in all (the first included).
        case immediate(maxAttempts: Int)
        /// After a delay drawn uniformly from `[0, min(cap, base × 2^(retry − 1))]` ("full
        /// jitter") when `jitter` is on, or exactly that bound when it is off; up to
        /// `maxAttempts` attempts in all.
        case exponentialBackoff(baseNanoseconds: Int64, capNanoseconds: Int64, maxAttempts: Int, jitter: Bool)
    }

    /// Retries allowed over a sliding window, as a fraction of first attempts in that window
    /// (the retry budgets of gRPC and Finagle): a retry is sent only if, counting it,
    /// `retries ≤ ratio × first attempts` over the last `windowNanoseconds`.
    public struct RetryBudget: Sendable, Hashable, Codable {
        /// Retries per first attempt, in [0, 1].
        public var ratio: Double
        /// Length of the sliding window; counted in whole seconds, at least one.
        public var windowNanoseconds: Int64

        public init(ratio: Double, windowNanoseconds: Int64 = 10_000_000_000) {
            self.ratio = ratio
            self.windowNanoseconds = windowNanoseconds
        }

        /// 10 % over 10 s.
        public static let standard = RetryBudget(ratio: 0.10)
    }

    public var retry: Retry
    /// `nil`: no budget, every retry the strategy wants is sent.
    public var budget: RetryBudget?

    public init(retry: Retry, budget: RetryBudget? = nil) {
        self.retry = retry
        self.budget = budget
    }

    /// The Go original: no retries.
    public static let original = ClientPolicy(retry: .none)

    /// The default: three attempts, exponential back-off from 100 ms capped at 1 s with full
    /// jitter, and a 10 % retry budget over 10 s.
    public static let standard = ClientPolicy(
        retry: .exponentialBackoff(baseNanoseconds: 100_000_000, capNanoseconds: 1_000_000_000, maxAttempts: 3, jitter: true),
        budget: .standard)

    /// Attempts per request at most, the first included.
    public var maxAttempts: Int {
        switch retry {
        case .none: 1
        case .immediate(let attempts): attempts
        case .exponentialBackoff(_, _, let attempts, _): attempts
        }
    }

    /// The largest number of attempts a request may make (attempt numbers must fit the
    /// request identity given to the backend).
    public static let attemptLimit = 100

    /// The delay before attempt number `attempt` (2 for the first retry), given a uniform
    /// draw `unit` in [0, 1) that only jitter uses.
    @inline(__always)
    func delay(beforeAttempt attempt: Int, unit: Double) -> Int64 {
        switch retry {
        case .none, .immediate: return 0
        case .exponentialBackoff(let base, let cap, _, let jitter):
            // base × 2^(retry − 1), computed without overflow.
            let doublings = attempt - 2
            var bound = cap
            if doublings < 62, base <= cap >> Int64(doublings) { bound = base << Int64(doublings) }
            return jitter ? Int64(Double(bound) * unit) : bound
        }
    }

    /// Checks the policy.
    /// - Throws: ``ClosedLoopError/invalidClientPolicy(_:)`` saying what is wrong.
    public func validated() throws(ClosedLoopError) -> ClientPolicy {
        guard (1...Self.attemptLimit).contains(maxAttempts) else {
            throw .invalidClientPolicy("the number of attempts must be between 1 and \(Self.attemptLimit), got \(maxAttempts)")
        }
        if case .exponentialBackoff(let base, let cap, _, _) = retry {
            guard base > 0 else { throw .invalidClientPolicy("the back-off base must be positive, got \(base) ns") }
            guard cap >= base else { throw .invalidClientPolicy("the back-off cap (\(cap) ns) must be at least the base (\(base) ns)") }
        }
        if let budget {
            guard budget.ratio.isFinite, budget.ratio >= 0, budget.ratio <= 1 else {
                throw .invalidClientPolicy("the retry budget ratio must be between 0 and 1, got \(budget.ratio)")
            }
            guard budget.windowNanoseconds >= 1_000_000_000, budget.windowNanoseconds <= 3_600_000_000_000 else {
                throw .invalidClientPolicy("the retry budget window must be between 1 s and 1 h, got \(budget.windowNanoseconds) ns")
            }
        }
        return self
    }

    public var description: String {
        let strategy: String
        switch retry {
        case .none: strategy = "no retry"
        case .immediate(let attempts): strategy = "immediate retry, \(attempts) attempts"
        case .exponentialBackoff(let base, let cap, let attempts, let jitter):
            strategy = "exponential back-off \(base / 1_000_000)-\(cap / 1_000_000) ms\(jitter ? " with full jitter" : ""), \(attempts) attempts"
        }
        guard let budget, maxAttempts > 1 else { return strategy }
        return strategy + ", retry budget \(SummaryTable.format(budget.ratio * 100, decimals: 0)) % over \(budget.windowNanoseconds / 1_000_000_000) s"
    }
}

/// The retry budget's bookkeeping: first attempts and retries per second over a ring of
/// seconds as long as the window. Fixed memory.
struct RetryBudgetWindow {
    private let ratio: Double
    private var firstAttempts: [Int64]
    private var retries: [Int64]
    private var firstTotal: Int64 = 0
    private var retryTotal: Int64 = 0
    /// The second the ring's newest bucket holds.
    private var currentSecond: Int64 = 0
    private let enabled: Bool

    init(_ budget: ClientPolicy.RetryBudget?) {
        enabled = budget != nil
        ratio = budget?.ratio ?? 1
        let seconds = budget.map { Int(max(1, $0.windowNanoseconds / 1_000_000_000)) } ?? 1
        firstAttempts = Array(repeating: 0, count: seconds)
        retries = Array(repeating: 0, count: seconds)
    }

    /// Moves the window so that it ends in the second of `instant`.
    @inline(__always)
    private mutating func slide(to instant: Int64) {
        let second = instant / 1_000_000_000
        guard second != currentSecond else { return }
        let size = Int64(firstAttempts.count)
        // Clear the buckets of the seconds that left the window (all of them after a long gap).
        var cleared = currentSecond + 1
        if second - cleared >= size { cleared = second - size + 1 }
        while cleared <= second {
            let index = Int(cleared % size)
            firstTotal -= firstAttempts[index]
            retryTotal -= retries[index]
            firstAttempts[index] = 0
            retries[index] = 0
            cleared += 1
        }
        currentSecond = second
    }

    @inline(__always)
    mutating func recordFirstAttempt(at instant: Int64) {
        guard enabled else { return }
        slide(to: instant)
        firstAttempts[Int(currentSecond % Int64(firstAttempts.count))] += 1
        firstTotal += 1
    }

    /// Whether one more retry fits the budget at `instant`; if so, it is counted.
    @inline(__always)
    mutating func withdrawRetry(at instant: Int64) -> Bool {
        guard enabled else { return true }
        slide(to: instant)
        guard Double(retryTotal + 1) <= ratio * Double(firstTotal) else { return false }
        retries[Int(currentSecond % Int64(retries.count))] += 1
        retryTotal += 1
        return true
    }
}
