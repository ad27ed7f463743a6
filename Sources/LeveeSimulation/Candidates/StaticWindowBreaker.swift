public import Levee

/// A static breaker with the four parameters every mainstream breaker exposes in some form:
/// `threshold` failures within a sliding `window` open it, it stays open for `open`, then it
/// half-opens and admits at most `probes` calls at a time, closing after `probes` of them succeed.
/// This is the family `levee tune` searches for the best static configuration in hindsight.
///
/// It is deliberately clean (no quirks to reproduce), so that the tuned configuration is the
/// strongest static baseline rather than one handicapped by an implementation detail:
/// - **Closed.** The instants of the latest `threshold` failures are kept in a ring; the breaker
///   opens when the oldest of them is still inside the window (Semian's classic rule). Successes
///   do not erase failures: only age does.
/// - **Open.** Rejects until `open` has passed since the trip; the first arrival after that
///   half-opens the breaker and is its first probe.
/// - **Half-open.** Only calls admitted as probes of the current half-open episode count
///   (completions of calls admitted earlier are ignored, so they can neither close nor re-open
///   it). A failed probe re-opens at once; `probes` successful probes close the breaker and clear
///   the failure ring.
/// - Half-open is reported as ``LeveeState/Kind/open``, like the other breakers.
public struct StaticWindowBreaker: BenchmarkCandidate, Sendable {
    /// The four tunable parameters.
    public struct Configuration: Sendable, Hashable, Codable, CustomStringConvertible {
        /// Failures within the window that open the breaker (≥ 1).
        public var threshold: Int
        /// The sliding window the failures must fall in, in nanoseconds (> 0).
        public var windowNanoseconds: Int64
        /// How long the breaker stays open before probing, in nanoseconds (> 0).
        public var openNanoseconds: Int64
        /// Probes in flight at once while half-open, and successful probes needed to close (≥ 1).
        public var probes: Int

        /// The largest threshold and probe count accepted: the failure ring is allocated up front.
        public static let maximumCount = 1_000_000

        /// - Throws: ``CandidateSpecError`` naming the first parameter out of range.
        public init(threshold: Int, windowNanoseconds: Int64, openNanoseconds: Int64, probes: Int) throws(CandidateSpecError) {
            guard (1...Self.maximumCount).contains(threshold) else {
                throw .invalidValue(parameter: "threshold", "must be a whole number from 1 to \(Self.maximumCount), got \(threshold)")
            }
            guard windowNanoseconds > 0 else {
                throw .invalidValue(parameter: "window", "must be a positive duration, got \(windowNanoseconds) ns")
            }
            guard openNanoseconds > 0 else {
                throw .invalidValue(parameter: "open", "must be a positive duration, got \(openNanoseconds) ns")
            }
            guard (1...Self.maximumCount).contains(probes) else {
                throw .invalidValue(parameter: "probes", "must be a whole number from 1 to \(Self.maximumCount), got \(probes)")
            }
            self.threshold = threshold
            self.windowNanoseconds = windowNanoseconds
            self.openNanoseconds = openNanoseconds
            self.probes = probes
        }

        private enum CodingKeys: String, CodingKey {
            case threshold, windowNanoseconds, openNanoseconds, probes
        }

        /// Decodes and validates like ``init(threshold:windowNanoseconds:openNanoseconds:probes:)``.
        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            try self.init(
                threshold: container.decode(Int.self, forKey: .threshold),
                windowNanoseconds: container.decode(Int64.self, forKey: .windowNanoseconds),
                openNanoseconds: container.decode(Int64.self, forKey: .openNanoseconds),
                probes: container.decode(Int.self, forKey: .probes))
        }

        /// The candidate spec that names this configuration, e.g.
        /// `static(threshold=5,window=10s,open=30s,probes=3)`; ``CandidateDescriptor/parseList(_:)``
        /// reads it back.
        public var spec: String {
            "static(threshold=\(threshold),window=\(DurationText.format(windowNanoseconds)),open=\(DurationText.format(openNanoseconds)),probes=\(probes))"
        }

        /// Short form for tables: `Static(t=5,w=10s,o=30s,p=3)`.
        public var displayName: String {
            "Static(t=\(threshold),w=\(DurationText.format(windowNanoseconds)),o=\(DurationText.format(openNanoseconds)),p=\(probes))"
        }

        public var description: String { spec }
    }

    /// The breaker's own three states; the benchmark only sees ``reportedState``.
    public enum InternalState: UInt8, Sendable, Hashable {
        case closed, open, halfOpen
    }

    public let configuration: Configuration
    public private(set) var internalState: InternalState = .closed
    /// The instant of the latest trip.
    public private(set) var openedAt: Int64 = .min
    /// Probes of the current half-open episode still in flight.
    public private(set) var probesInFlight = 0
    /// Successful probes in the current half-open episode.
    public private(set) var probeSuccesses = 0
    public private(set) var protocolErrors = 0

    /// Failure instants, oldest at `failureHead`; `failureCount` of them are live.
    private var failureRing: [Int64]
    private var failureHead = 0
    private var failureCount = 0
    /// Half-open episodes so far; a probe is tagged with the episode that admitted it.
    private var episode: UInt32 = 0
    /// Per slot: the episode that admitted the call as a probe, or 0 for an ordinary call.
    private var probeEpisode: [UInt32]

    public init(configuration: Configuration, slotCapacity: Int) {
        self.configuration = configuration
        failureRing = Array(repeating: 0, count: configuration.threshold)
        probeEpisode = Array(repeating: 0, count: max(slotCapacity, 0))
    }

    public var reportedState: LeveeState.Kind {
        internalState == .closed ? .closed : .open
    }

    public static var admitsInBulk: Bool { true }

    /// Closed admits every call. Its one write, marking the slot as no probe's, is a no-op: a
    /// slot's mark is cleared when its call completes, and calls that were not admitted never set it.
    public func wouldAdmitInBulk(_ count: Int, through instant: Int64) -> Bool { internalState == .closed }

    public mutating func admit(slot: Int, at instant: Int64) -> Bool {
        guard slot >= 0, slot < probeEpisode.count else {
            protocolErrors += 1
            return false
        }
        switch internalState {
        case .closed:
            probeEpisode[slot] = 0
            return true
        case .open:
            guard instant - openedAt >= configuration.openNanoseconds else { return false }
            internalState = .halfOpen
            // Episode numbers start at 1 so that 0 marks ordinary calls; wrapping after 4 billion
            // episodes could only confuse a probe with one 4 billion episodes old.
            episode = episode == .max ? 1 : episode + 1
            probesInFlight = 0
            probeSuccesses = 0
            return admitProbe(slot: slot)
        case .halfOpen:
            return admitProbe(slot: slot)
        }
    }

    private mutating func admitProbe(slot: Int) -> Bool {
        // Successes already counted plus probes in flight: never admit more than could close it.
        guard probesInFlight + probeSuccesses < configuration.probes else {
            return false
        }
        probesInFlight += 1
        probeEpisode[slot] = episode
        return true
    }

    @inline(__always)
    public mutating func complete(slot: Int, succeeded: Bool, at instant: Int64) {
        guard slot >= 0, slot < probeEpisode.count else {
            protocolErrors += 1
            return
        }
        let admittedBy = probeEpisode[slot]
        probeEpisode[slot] = 0
        switch internalState {
        case .closed:
            if !succeeded { recordFailure(at: instant) }
        case .open:
            break
        case .halfOpen:
            guard admittedBy == episode else { return }
            probesInFlight -= 1
            if !succeeded {
                trip(at: instant)
            } else {
                probeSuccesses += 1
                if probeSuccesses >= configuration.probes {
                    internalState = .closed
                    failureCount = 0
                    failureHead = 0
                }
            }
        }
    }

    private mutating func recordFailure(at instant: Int64) {
        let capacity = failureRing.count
        if failureCount == capacity {
            failureRing[failureHead] = instant
            failureHead = failureHead + 1 == capacity ? 0 : failureHead + 1
        } else {
            let index = failureHead + failureCount
            failureRing[index >= capacity ? index - capacity : index] = instant
            failureCount += 1
        }
        // The ring is full of the latest `threshold` failures; the oldest sits at the head.
        if failureCount == capacity, instant - failureRing[failureHead] <= configuration.windowNanoseconds {
            trip(at: instant)
        }
    }

    private mutating func trip(at instant: Int64) {
        internalState = .open
        openedAt = instant
        failureCount = 0
        failureHead = 0
    }
}

/// Durations in candidate specs and tuning grids: a number with an optional unit, `ms`, `s`
/// (the default) or `m`.
public enum DurationText {
    /// Reads `250ms`, `10s`, `10` (seconds) or `2m` as nanoseconds.
    /// - Returns: `nil` unless the text is a finite positive duration of at least a nanosecond and
    ///   at most a year.
    public static func parse(_ text: some StringProtocol) -> Int64? {
        var body = text.trimmedOfBlanks().lowercased()
        var scale = 1e9
        if body.hasSuffix("ms") {
            body.removeLast(2)
            scale = 1e6
        } else if body.hasSuffix("s") {
            body.removeLast()
        } else if body.hasSuffix("m") {
            body.removeLast()
            scale = 60e9
        }
        guard let value = Double(body), value.isFinite, value > 0 else { return nil }
        let nanoseconds = (value * scale).rounded()
        guard nanoseconds >= 1, nanoseconds <= 365 * 86_400e9 else { return nil }
        return Int64(nanoseconds)
    }

    /// The shortest exact text `parse` reads back: whole seconds as `10s`, whole milliseconds
    /// as `250ms`, anything finer as fractional milliseconds.
    public static func format(_ nanoseconds: Int64) -> String {
        if nanoseconds % 1_000_000_000 == 0 { return "\(nanoseconds / 1_000_000_000)s" }
        if nanoseconds % 1_000_000 == 0 { return "\(nanoseconds / 1_000_000)ms" }
        return "\(Double(nanoseconds) / 1e6)ms"
    }
}
