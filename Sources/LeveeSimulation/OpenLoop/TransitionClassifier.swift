public import Levee

/// How the original benchmark judges a state change against the oracle (levee-bench §4.3).
public enum TransitionClass: String, Sendable, Hashable, Codable, CaseIterable {
    /// An opening less than 60 s after the candidate's previous closing (checked first).
    case flapping
    /// An opening while the oracle is CLOSED, with no oracle-OPEN period within ±5 s.
    case falseAlarm
    /// An opening while the oracle is CLOSED but an incident starts or ended within 5 s:
    /// neither rewarded nor penalised.
    case nearIncidentOpening
    /// An opening while the oracle is OPEN, more than 1 s after the oracle opened.
    case lateDetection
    /// An opening while the oracle is OPEN, within 1 s of the oracle opening.
    case goodDetection
    /// A closing while the oracle is still OPEN.
    case prematureRecovery
    /// A closing more than 5 s after the oracle's latest closing.
    case slowRecovery
    /// A closing within 5 s of the oracle's latest closing (or before any incident).
    case goodRecovery
}

/// Counts of each transition class, plus throttling episodes.
public struct TransitionCounts: Sendable, Hashable, Codable {
    public var flapping = 0
    public var falseAlarms = 0
    public var nearIncidentOpenings = 0
    public var lateDetections = 0
    public var goodDetections = 0
    public var prematureRecoveries = 0
    public var slowRecoveries = 0
    public var goodRecoveries = 0
    /// Entries into THROTTLED (not classified: see ``TransitionClassifier``).
    public var throttles = 0

    public init() {}

    mutating func count(_ transitionClass: TransitionClass) {
        switch transitionClass {
        case .flapping: flapping += 1
        case .falseAlarm: falseAlarms += 1
        case .nearIncidentOpening: nearIncidentOpenings += 1
        case .lateDetection: lateDetections += 1
        case .goodDetection: goodDetections += 1
        case .prematureRecovery: prematureRecoveries += 1
        case .slowRecovery: slowRecoveries += 1
        case .goodRecovery: goodRecoveries += 1
        }
    }
}

/// A logged transition with the oracle's state at that instant and its class, if any.
public struct ClassifiedTransition: Sendable, Hashable, Codable {
    public var transition: CandidateTransition
    public var oracleOpen: Bool
    public var classification: TransitionClass?
}

/// How a candidate responded to one incident (an oracle-OPEN interval).
public struct IncidentResponse: Sendable, Hashable, Codable {
    public var incident: PrescientOracle.Incident
    /// The candidate stayed CLOSED throughout the incident: it never opened nor throttled, so it
    /// admitted every request that arrived during it. The original cannot see these.
    public var missed: Bool
    /// Nanoseconds from the incident's start to the candidate's first non-CLOSED state during it
    /// (0 if it was already OPEN or THROTTLED); `nil` when missed.
    public var reactionDelay: Int64?
    /// Nanoseconds from the incident's start to the candidate's first OPEN state during it;
    /// `nil` if it never opened during the incident.
    public var openingDelay: Int64?
    /// Nanoseconds from the incident's end until the candidate was CLOSED again (0 if it was
    /// CLOSED at the end); `nil` if it never closed again before the run ended.
    public var recoveryDelay: Int64?
}

/// Classifies transitions exactly as the original benchmark does, and finds missed incidents.
///
/// THROTTLED is its own state, as in the original: only moves into OPEN are openings and only
/// moves into CLOSED are closings. So CLOSED → THROTTLED is not an opening (it is counted in
/// ``TransitionCounts/throttles``), THROTTLED → OPEN is an opening, and THROTTLED → CLOSED is a
/// closing (a recovery, judged like any other, and the start of the 60 s flapping window).
/// A candidate that only throttles during an incident is not ``IncidentResponse/missed`` (it
/// restricted admission), but it scores no detection; its BadTraffic tells how much it let through.
public enum TransitionClassifier {
    public static let falseAlarmWindow: Int64 = 5_000_000_000
    public static let lateDetectionDelay: Int64 = 1_000_000_000
    public static let slowRecoveryDelay: Int64 = 5_000_000_000
    public static let flappingWindow: Int64 = 60_000_000_000

    /// Classifies `transitions` (in time order) against `oracle`.
    public static func classify(_ transitions: [CandidateTransition], oracle: PrescientOracle) -> [ClassifiedTransition] {
        var result: [ClassifiedTransition] = []
        result.reserveCapacity(transitions.count)
        var lastClosing: Int64?
        // The original starts from CLOSED whatever the candidate's initial state.
        var lastState: LeveeState.Kind = .closed
        for transition in transitions {
            let time = transition.time
            let oracleOpen = oracle.isOpen(at: time)
            guard transition.to != lastState else { continue }
            var classification: TransitionClass?
            switch transition.to {
            case .open:
                if let lastClosing, time - lastClosing < flappingWindow {
                    classification = .flapping
                } else if !oracleOpen {
                    let nearIncident = oracle.hasIncident(overlappingAfter: time - falseAlarmWindow, before: time + falseAlarmWindow)
                    classification = nearIncident ? .nearIncidentOpening : .falseAlarm
                } else if let opened = oracle.latestOpening(atOrBefore: time), time - opened > lateDetectionDelay {
                    classification = .lateDetection
                } else {
                    classification = .goodDetection
                }
            case .closed:
                lastClosing = time
                if oracleOpen {
                    classification = .prematureRecovery
                } else if let closed = oracle.latestClosing(atOrBefore: time), time - closed > slowRecoveryDelay {
                    classification = .slowRecovery
                } else {
                    classification = .goodRecovery
                }
            case .throttled:
                classification = nil
            }
            lastState = transition.to
            result.append(ClassifiedTransition(transition: transition, oracleOpen: oracleOpen, classification: classification))
        }
        return result
    }

    /// Counts the classes of `classified`, and the entries into THROTTLED.
    public static func counts(of classified: [ClassifiedTransition]) -> TransitionCounts {
        var counts = TransitionCounts()
        for entry in classified {
            if let classification = entry.classification { counts.count(classification) }
            if entry.transition.to == .throttled { counts.throttles += 1 }
        }
        return counts
    }

    /// How the candidate responded to each incident of `oracle`.
    ///
    /// - Parameters:
    ///   - initialState: The candidate's state before its first transition.
    ///   - transitions: Its transitions, in time order.
    public static func incidentResponses(
        initialState: LeveeState.Kind, transitions: [CandidateTransition], oracle: PrescientOracle
    ) -> [IncidentResponse] {
        oracle.incidents.map { incident in
            // State in force just before the incident starts.
            var state = initialState
            var index = 0
            while index < transitions.count, transitions[index].time < incident.start {
                state = transitions[index].to
                index += 1
            }
            var reaction: Int64? = state == .closed ? nil : 0
            var opening: Int64? = state == .open ? 0 : nil
            while index < transitions.count, transitions[index].time < incident.end {
                let transition = transitions[index]
                state = transition.to
                if reaction == nil, state != .closed { reaction = transition.time - incident.start }
                if opening == nil, state == .open { opening = transition.time - incident.start }
                index += 1
            }
            var recovery: Int64? = state == .closed ? 0 : nil
            while recovery == nil, index < transitions.count {
                if transitions[index].to == .closed { recovery = transitions[index].time - incident.end }
                index += 1
            }
            return IncidentResponse(incident: incident, missed: reaction == nil, reactionDelay: reaction,
                                    openingDelay: opening, recoveryDelay: recovery)
        }
    }
}
