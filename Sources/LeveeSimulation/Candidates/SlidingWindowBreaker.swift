public import Levee

/// A resilience4j-style circuit breaker with a time-based sliding window, on simulated time.
///
/// Defaults are resilience4j's as the peer survey records them: failure-rate threshold 50 %,
/// slow-call-rate threshold 100 % with a slow-call duration threshold of 60 s, minimum number of
/// calls 100, wait duration in open 60 s, 10 permitted calls in half-open. The window is
/// `TIME_BASED` over 60 s, kept as 60 per-second buckets (resilience4j's own default window is
/// count-based, 100 calls; the time-based form is the one chosen here).
///
/// Behaviour:
/// - Closed: every completion is recorded, in the second it completed, as a call, a failure if it
///   failed, and a slow call if it took longer than the slow-call duration threshold (successful
///   slow calls count too). Once the window holds at least the minimum number of calls, the
///   breaker opens when the failure rate or the slow-call rate is **at or above** its threshold.
/// - Open: rejects everything. The first arrival at least the wait duration after the trip moves
///   it to half-open (resilience4j's default, `automaticTransitionFromOpenToHalfOpenEnabled`
///   false) and is itself the first probe.
/// - Half-open: admits the permitted number of calls, then rejects until all of them completed
///   (`maxWaitDurationInHalfOpenState` 0). Their results are judged as one batch against the same
///   thresholds: at or above either threshold re-opens, otherwise it closes with an empty window.
/// - Completions of calls admitted before the current open or half-open episode are ignored while
///   open or half-open (so the half-open verdict is on the probes alone). Calls admitted as probes
///   that complete after the breaker closed are recorded in the new closed window.
/// - Half-open is reported as ``LeveeState/Kind/open``, as the static baselines report it.
public struct SlidingWindowBreaker: BenchmarkCandidate, Sendable, Hashable {
    /// The fixed parameters, named after resilience4j's.
    public struct Configuration: Sendable, Hashable {
        /// `failureRateThreshold`, as a fraction in (0, 1].
        public var failureRateThreshold: Double
        /// `slowCallRateThreshold`, as a fraction in (0, 1].
        public var slowCallRateThreshold: Double
        /// `slowCallDurationThreshold`: a call taking longer than this is slow.
        public var slowCallDurationNanoseconds: Int64
        /// `minimumNumberOfCalls` in the window before any rate is evaluated.
        public var minimumNumberOfCalls: Int
        /// `slidingWindowSize` for a time-based window, in whole seconds.
        public var windowSeconds: Int
        /// `waitDurationInOpenState`.
        public var waitDurationInOpenNanoseconds: Int64
        /// `permittedNumberOfCallsInHalfOpenState`.
        public var permittedCallsInHalfOpen: Int

        public init(
            failureRateThreshold: Double = 0.5, slowCallRateThreshold: Double = 1.0,
            slowCallDurationNanoseconds: Int64 = 60_000_000_000, minimumNumberOfCalls: Int = 100,
            windowSeconds: Int = 60, waitDurationInOpenNanoseconds: Int64 = 60_000_000_000,
            permittedCallsInHalfOpen: Int = 10
        ) {
            self.failureRateThreshold = failureRateThreshold
            self.slowCallRateThreshold = slowCallRateThreshold
            self.slowCallDurationNanoseconds = slowCallDurationNanoseconds
            self.minimumNumberOfCalls = minimumNumberOfCalls
            self.windowSeconds = windowSeconds
            self.waitDurationInOpenNanoseconds = waitDurationInOpenNanoseconds
            self.permittedCallsInHalfOpen = permittedCallsInHalfOpen
        }

        /// resilience4j's defaults with a 60 s time-based window.
        public static let standard = Configuration()
    }

    /// The breaker's own states; the benchmark only sees ``reportedState``.
    public enum InternalState: UInt8, Sendable, Hashable {
        case closed, open, halfOpen
    }

    public let configuration: Configuration
    public private(set) var internalState: InternalState = .closed
    /// The instant of the latest trip.
    public private(set) var openedAt: Int64 = .min
    /// Calls (first) and failures (second) in the closed window.
    private var calls: SecondBuckets
    /// Slow calls (first) in the closed window; the second counter is unused.
    private var slow: SecondBuckets
    /// Per slot, its call's admission instant and the episode it was admitted in (probes carry
    /// the half-open episode's number); one array, so one uniqueness check per admission.
    private var slotCalls: [SlotCall]

    private struct SlotCall: Sendable, Hashable {
        var startedAt: Int64 = 0
        var episode: UInt32 = 0
    }
    /// Increments on every transition, so stale completions can be recognised.
    private var episode: UInt32 = 0
    /// Half-open bookkeeping.
    public private(set) var probesAdmitted = 0
    public private(set) var probesCompleted = 0
    private var probeFailures = 0
    private var probeSlow = 0
    public private(set) var protocolErrors = 0

    public init(configuration: Configuration = .standard, slotCapacity: Int) {
        self.configuration = configuration
        calls = SecondBuckets(seconds: configuration.windowSeconds)
        slow = SecondBuckets(seconds: configuration.windowSeconds)
        slotCalls = Array(repeating: SlotCall(), count: max(0, slotCapacity))
    }

    public var reportedState: LeveeState.Kind { internalState == .closed ? .closed : .open }

    /// Calls, failures and slow calls in the closed window as of the latest event.
    public var windowCounts: (calls: Int, failures: Int, slow: Int) {
        (calls.firstTotal, calls.secondTotal, slow.firstTotal)
    }

    public mutating func admit(slot: Int, at instant: Int64) -> Bool {
        guard slot >= 0, slot < slotCalls.count else { protocolErrors += 1; return false }
        switch internalState {
        case .closed:
            break
        case .open:
            guard instant - openedAt >= configuration.waitDurationInOpenNanoseconds else { return false }
            internalState = .halfOpen
            episode &+= 1
            probesAdmitted = 0
            probesCompleted = 0
            probeFailures = 0
            probeSlow = 0
            fallthrough
        case .halfOpen:
            guard probesAdmitted < configuration.permittedCallsInHalfOpen else { return false }
            probesAdmitted += 1
        }
        slotCalls[slot] = SlotCall(startedAt: instant, episode: episode)
        return true
    }

    public mutating func complete(slot: Int, succeeded: Bool, at instant: Int64) {
        guard slot >= 0, slot < slotCalls.count else { protocolErrors += 1; return }
        let call = slotCalls[slot]
        let isSlow = instant - call.startedAt > configuration.slowCallDurationNanoseconds
        switch internalState {
        case .closed:
            calls.advance(to: instant)
            slow.advance(to: instant)
            calls.add(first: 1, second: succeeded ? 0 : 1)
            if isSlow { slow.add(first: 1, second: 0) }
            let total = calls.firstTotal
            guard total >= configuration.minimumNumberOfCalls, total > 0 else { return }
            if exceeds(failures: calls.secondTotal, slow: slow.firstTotal, of: total) { trip(at: instant) }
        case .open:
            break
        case .halfOpen:
            guard call.episode == episode else { return }
            probesCompleted += 1
            if !succeeded { probeFailures += 1 }
            if isSlow { probeSlow += 1 }
            guard probesCompleted >= configuration.permittedCallsInHalfOpen else { return }
            if exceeds(failures: probeFailures, slow: probeSlow, of: probesCompleted) {
                trip(at: instant)
            } else {
                internalState = .closed
                episode &+= 1
                calls = SecondBuckets(seconds: configuration.windowSeconds)
                slow = SecondBuckets(seconds: configuration.windowSeconds)
            }
        }
    }

    private func exceeds(failures: Int, slow: Int, of total: Int) -> Bool {
        let count = Double(total)
        return Double(failures) / count >= configuration.failureRateThreshold
            || Double(slow) / count >= configuration.slowCallRateThreshold
    }

    private mutating func trip(at instant: Int64) {
        internalState = .open
        openedAt = instant
        episode &+= 1
    }
}
