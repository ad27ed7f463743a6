public import Levee

/// The original benchmark's static baseline: a classic three-state breaker that counts
/// consecutive failures and successes, with the original's configurations and quirks.
///
/// Behaviour, reproduced deliberately because it decides the original's numbers:
/// - Counters move in completion order, for every completion the breaker hears about, including
///   calls admitted before a trip that complete while it is open (they update the counters but
///   cannot change the state) or half-open (they count towards closing or re-opening).
/// - Every completion heard while half-open decrements the probe counter, also for calls admitted
///   before the trip, so the counter can go negative and admit more probes than the maximum.
/// - The first arrival after the open timeout moves the breaker to half-open and is itself a
///   probe candidate.
/// - Half-open is reported as ``LeveeState/Kind/open``, even for admitted probes.
public struct StaticBreaker: BenchmarkCandidate, Sendable, Hashable {
    /// The fixed parameters of a static breaker.
    public struct Configuration: Sendable, Hashable {
        /// Consecutive failures that open the breaker.
        public var failureThreshold: Int
        /// Consecutive successes, while half-open, that close it.
        public var successThreshold: Int
        /// Time spent open before the next arrival may probe.
        public var halfOpenTimeoutNanoseconds: Int64
        /// Probes allowed in flight while half-open; 0 means unlimited.
        public var halfOpenMaxCalls: Int

        public init(failureThreshold: Int, successThreshold: Int, halfOpenTimeoutNanoseconds: Int64, halfOpenMaxCalls: Int) {
            self.failureThreshold = failureThreshold
            self.successThreshold = successThreshold
            self.halfOpenTimeoutNanoseconds = halfOpenTimeoutNanoseconds
            self.halfOpenMaxCalls = halfOpenMaxCalls
        }

        /// Static-BAU: sized for 100-800 RPS (5 / 3 / 10 s / 1 probe).
        public static let bau = Configuration(
            failureThreshold: 5, successThreshold: 3, halfOpenTimeoutNanoseconds: 10_000_000_000, halfOpenMaxCalls: 1)
        /// Static-Peak: sized for 2,000-5,000 RPS (7 / 5 / 30 s / 3 probes).
        public static let peak = Configuration(
            failureThreshold: 7, successThreshold: 5, halfOpenTimeoutNanoseconds: 30_000_000_000, halfOpenMaxCalls: 3)
    }

    /// The breaker's own three states; the benchmark only sees ``reportedState``.
    public enum InternalState: UInt8, Sendable, Hashable {
        case closed, open, halfOpen
    }

    public let configuration: Configuration
    /// The breaker's own state (half-open is visible here, not in ``reportedState``).
    public private(set) var internalState: InternalState = .closed
    /// Failures since the last success, in completion order (also while open).
    public private(set) var consecutiveFailures = 0
    /// Successes since the last failure, in completion order (reset on entering half-open).
    public private(set) var consecutiveSuccesses = 0
    /// The instant of the latest trip.
    public private(set) var openedAt: Int64 = .min
    /// Probes counted as in flight while half-open. Can go negative (see the type's notes).
    public private(set) var halfOpenCalls = 0

    public init(configuration: Configuration) {
        self.configuration = configuration
    }

    public var reportedState: LeveeState.Kind {
        internalState == .closed ? .closed : .open
    }

    public static var admitsInBulk: Bool { true }

    /// Closed admits every call and changes nothing; the other states decide per call.
    public func wouldAdmitInBulk(_ count: Int, through instant: Int64) -> Bool { internalState == .closed }

    public mutating func admit(slot: Int, at instant: Int64) -> Bool {
        switch internalState {
        case .closed:
            return true
        case .open:
            // Subtraction cannot overflow: `openedAt` is a real instant whenever the state is open.
            guard instant - openedAt >= configuration.halfOpenTimeoutNanoseconds else { return false }
            internalState = .halfOpen
            consecutiveSuccesses = 0
            halfOpenCalls = 0
            return admitProbe()
        case .halfOpen:
            return admitProbe()
        }
    }

    private mutating func admitProbe() -> Bool {
        guard configuration.halfOpenMaxCalls > 0 else { return true }
        halfOpenCalls += 1
        if halfOpenCalls > configuration.halfOpenMaxCalls {
            halfOpenCalls -= 1
            return false
        }
        return true
    }

    @inline(__always)
    public mutating func complete(slot: Int, succeeded: Bool, at instant: Int64) {
        if internalState == .halfOpen { halfOpenCalls -= 1 }
        if succeeded {
            consecutiveFailures = 0
            consecutiveSuccesses += 1
            if internalState == .halfOpen, consecutiveSuccesses >= configuration.successThreshold {
                internalState = .closed
                consecutiveSuccesses = 0
            }
        } else {
            consecutiveSuccesses = 0
            consecutiveFailures += 1
            switch internalState {
            case .closed:
                if consecutiveFailures >= configuration.failureThreshold { trip(at: instant) }
            case .halfOpen:
                trip(at: instant)
            case .open:
                // Failures of calls admitted before the trip keep counting but cannot re-trip.
                break
            }
        }
    }

    private mutating func trip(at instant: Int64) {
        internalState = .open
        openedAt = instant
        consecutiveFailures = 0
    }
}
