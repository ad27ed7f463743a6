import Levee
import Testing
@testable import LeveeSimulation

@Suite("Scoring: transition classes and missed incidents")
struct ScoringTransitionTests {
    let second = TestSupport.second

    /// Incidents [100 s, 200 s) and [500 s, 600 s) in a 1,000 s run.
    let oracle = PrescientOracle(
        phaseDurations: [100, 100, 300, 100, 400].map { $0 * 1_000_000_000 },
        errorRates: [0, 0.5, 0, 0.5, 0], errorBudget: 0.1)

    func transitions(_ steps: [(seconds: Double, to: LeveeState.Kind)], from initial: LeveeState.Kind = .closed) -> [CandidateTransition] {
        var state = initial
        return steps.map { step in
            defer { state = step.to }
            return CandidateTransition(time: Int64(step.seconds * 1e9), from: state, to: step.to)
        }
    }

    func classes(_ steps: [(seconds: Double, to: LeveeState.Kind)]) -> [TransitionClass?] {
        TransitionClassifier.classify(transitions(steps), oracle: oracle).map(\.classification)
    }

    @Test("Opening within 1 s of the incident is a good detection, later is late (exactly 1 s is still good)")
    func detection() {
        #expect(classes([(100.5, .open)]) == [.goodDetection])
        #expect(classes([(101, .open)]) == [.goodDetection])
        #expect(classes([(101.5, .open)]) == [.lateDetection])
        #expect(classes([(150, .open)]) == [.lateDetection])
    }

    @Test("Closing while the oracle is OPEN is premature; within 5 s of its closing is good, later is slow")
    func recovery() {
        #expect(classes([(100.2, .open), (150, .closed)]) == [.goodDetection, .prematureRecovery])
        #expect(classes([(100.2, .open), (203, .closed)]) == [.goodDetection, .goodRecovery])
        #expect(classes([(100.2, .open), (205, .closed)]) == [.goodDetection, .goodRecovery])
        #expect(classes([(100.2, .open), (205.5, .closed)]) == [.goodDetection, .slowRecovery])
    }

    @Test("Opening far from any incident is a false alarm; within ±5 s of one it is left unclassified")
    func falseAlarm() {
        #expect(classes([(300, .open)]) == [.falseAlarm])
        #expect(classes([(96, .open)]) == [.nearIncidentOpening])
        #expect(classes([(204, .open)]) == [.nearIncidentOpening])
        // The window is open at both ends, as in the original.
        #expect(classes([(95, .open)]) == [.falseAlarm])
        #expect(classes([(205, .open)]) == [.falseAlarm])
    }

    @Test("An opening less than 60 s after a closing is flapping, whatever the oracle says")
    func flapping() {
        // (The closings are slow recoveries: the oracle last closed at 200 s.)
        #expect(classes([(300, .open), (310, .closed), (320, .open)]) == [.falseAlarm, .slowRecovery, .flapping])
        #expect(classes([(300, .open), (310, .closed), (370, .open)]) == [.falseAlarm, .slowRecovery, .falseAlarm])
        #expect(classes([(300, .open), (310, .closed), (369.9, .open)]) == [.falseAlarm, .slowRecovery, .flapping])
        // Flapping takes precedence over a detection; a closing before any incident is a good recovery.
        #expect(classes([(60, .open), (70, .closed), (100.5, .open)]) == [.falseAlarm, .goodRecovery, .flapping])
    }

    @Test("THROTTLED is its own state: entering it is not an opening, leaving it for CLOSED is a closing")
    func throttled() {
        let steps: [(Double, LeveeState.Kind)] = [(100.2, .throttled), (102, .open), (201, .throttled), (230, .closed)]
        #expect(classes(steps) == [nil, .lateDetection, nil, .slowRecovery])
        let counts = TransitionClassifier.counts(of: TransitionClassifier.classify(transitions(steps), oracle: oracle))
        #expect(counts.throttles == 2)
        #expect(counts.lateDetections == 1)
        #expect(counts.slowRecoveries == 1)
        #expect(counts.falseAlarms == 0)
        // A throttle that ends just before an opening makes that opening a flap.
        #expect(classes([(300, .throttled), (320, .closed), (350, .open)]) == [nil, .slowRecovery, .flapping])
    }

    @Test("Missed incidents: CLOSED throughout; throttling or an earlier opening counts as a reaction")
    func missedIncidents() {
        let none = TransitionClassifier.incidentResponses(initialState: .closed, transitions: [], oracle: oracle)
        #expect(none.map(\.missed) == [true, true])
        #expect(none.map(\.recoveryDelay) == [0, 0])

        let reacted = TransitionClassifier.incidentResponses(
            initialState: .closed,
            transitions: transitions([(90, .open), (210, .closed), (530, .throttled), (540, .open), (620, .closed)]),
            oracle: oracle)
        #expect(reacted.map(\.missed) == [false, false])
        #expect(reacted[0].reactionDelay == 0)
        #expect(reacted[0].openingDelay == 0)
        #expect(reacted[0].recoveryDelay == 10 * second)
        #expect(reacted[1].reactionDelay == 30 * second)
        #expect(reacted[1].openingDelay == 40 * second)
        #expect(reacted[1].recoveryDelay == 20 * second)

        // Opening and closing again inside the first incident, then nothing during the second.
        let brief = TransitionClassifier.incidentResponses(
            initialState: .closed, transitions: transitions([(120, .open), (130, .closed)]), oracle: oracle)
        #expect(brief.map(\.missed) == [false, true])
        #expect(brief[0].recoveryDelay == 0)

        // A candidate that starts OPEN and never moves misses nothing.
        let blocking = TransitionClassifier.incidentResponses(initialState: .open, transitions: [], oracle: oracle)
        #expect(blocking.map(\.missed) == [false, false])
        #expect(blocking[0].recoveryDelay == nil)
    }

    @Test("Counts add up over a full timeline")
    func counts() {
        let steps: [(Double, LeveeState.Kind)] = [
            (300, .open), (305, .closed), (310, .open), (320, .closed),  // false alarm, slow, flap, slow
            (500.5, .open), (550, .closed), (555, .open), (603, .closed),  // good detection, premature, flap, good
        ]
        let counts = TransitionClassifier.counts(of: TransitionClassifier.classify(transitions(steps), oracle: oracle))
        #expect(counts.falseAlarms == 1)
        #expect(counts.flapping == 2)
        #expect(counts.goodDetections == 1)
        #expect(counts.prematureRecoveries == 1)
        #expect(counts.slowRecoveries == 2)
        #expect(counts.goodRecoveries == 1)
        #expect(counts.lateDetections == 0)
    }
}

@Suite("Scoring: the Prescient oracle")
struct OracleTests {
    let second = TestSupport.second

    @Test("Unhealthy iff the error rate exceeds 1 − SLO; adjacent unhealthy phases merge into one incident")
    func incidents() {
        let scenario = TestSupport.scenario([(10, 60, 0.005), (2, 60, 0.6), (3, 60, 0.2), (4, 60, 0.05), (5, 60, 0.3)])
        let oracle = PrescientOracle(scenario: scenario, slo: TestSupport.slo())
        #expect(oracle.unhealthyPhases == [false, true, true, false, true])
        #expect(oracle.incidents.map(\.start) == [10 * second, 19 * second])
        #expect(oracle.incidents.map(\.end) == [15 * second, 24 * second])
        #expect(oracle.incidents[0].firstPhase == 1 && oracle.incidents[0].lastPhase == 2)
        #expect(oracle.incidentNanoseconds == 10 * second)
    }

    @Test("Nominal boundaries, start inclusive and end exclusive; CLOSED after the scenario")
    func boundaries() {
        let scenario = TestSupport.scenario([(10, 60, 0), (5, 60, 0.5), (10, 60, 0)])
        let oracle = PrescientOracle(scenario: scenario, slo: TestSupport.slo())
        #expect(!oracle.isOpen(at: 10 * second - 1))
        #expect(oracle.isOpen(at: 10 * second))
        #expect(oracle.isOpen(at: 15 * second - 1))
        #expect(!oracle.isOpen(at: 15 * second))
        #expect(!oracle.isOpen(at: 100 * second))
        #expect(!oracle.isOpen(at: -1))
        var cursor = PrescientOracle.Cursor(oracle: oracle)
        let probes: [Int64] = [0, 10 * second - 1, 10 * second, 12 * second, 15 * second - 1, 15 * second, 30 * second]
        #expect(probes.map { cursor.advance(to: $0) } == probes.map { oracle.isOpen(at: $0) })
    }

    @Test("The threshold is computed like the original: at SLO 0.90 a phase at exactly 10 % errors is unhealthy")
    func knifeEdge() {
        let scenario = TestSupport.scenario([(10, 60, 0.1), (10, 60, 0.0999)])
        let oracle = PrescientOracle(scenario: scenario, slo: TestSupport.slo(0.90))
        // 1 − 0.9 is 0.09999999999999998 in binary floating point.
        #expect(oracle.unhealthyPhases == [true, false])
        let strict = PrescientOracle(scenario: scenario, slo: TestSupport.slo(0.75))
        #expect(strict.unhealthyPhases == [false, false])
    }

    @Test("Cyber Monday at SLO 0.90: three incidents, 1,380 s")
    func cyberMonday() {
        let oracle = PrescientOracle(scenario: .cyberMonday, slo: TestSupport.slo())
        #expect(oracle.incidents.map { $0.start / second } == [14_400, 50_400, 79_200])
        #expect(oracle.incidents.map { $0.durationNanoseconds / second } == [480, 600, 300])
    }
}
