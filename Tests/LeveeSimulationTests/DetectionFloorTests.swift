import Foundation
import Levee
import Testing
@testable import LeveeSimulation

/// Levee detects an incident as soon as its false-alarm threshold allows, with no lag of its own.
///
/// The reference is Page's CUSUM written here from its definition, not from Levee's code: for each
/// alternative failure rate (geometric from the down rate, twice the 10 % budget, to 95 %: at SLO
/// 0.90 that is 20 %, 43.6 % and 95 %), the log-likelihood ratio of the alternative against the
/// budget summed outcome by outcome, floored at zero, firing past ln 10⁸: for a known alternative,
/// no test with as few false alarms has a shorter worst-case delay (Lorden; Moustakides). Fed the
/// same outcomes in completion order, Levee must leave the closed state at exactly the outcome at
/// which that bank fires: anything it added between the outcome and the decision (an evaluation
/// interval, a tick, a misread failure) would show here as a later instant. The profiles are Cyber
/// Monday's three incident onsets, each after the calm phase before it, on the Go-compatible
/// generator.
@Suite("Detection: Levee leaves closed at the outcome where an ideal CUSUM bank fires")
struct DetectionFloorTests {
    struct IdealBank {
        var sums: [Double]
        let failureSteps: [Double]
        let successSteps: [Double]

        init(budget: Double, alternatives: [Double]) {
            sums = Array(repeating: 0, count: alternatives.count)
            failureSteps = alternatives.map { Foundation.log($0 / budget) }
            successSteps = alternatives.map { Foundation.log((1 - $0) / (1 - budget)) }
        }

        /// Adds one outcome; whether any test of the bank now exceeds the threshold.
        mutating func fires(failure: Bool, threshold: Double) -> Bool {
            var fired = false
            for index in sums.indices {
                sums[index] = max(0, sums[index] + (failure ? failureSteps[index] : successSteps[index]))
                if sums[index] > threshold { fired = true }
            }
            return fired
        }
    }

    struct Profile: Sendable, CustomTestStringConvertible {
        let calm: Phase
        let incident: Phase
        var testDescription: String { incident.label }
    }

    /// Cyber Monday's incident onsets, from the shipped scenario: every phase failing more than the
    /// 10 % budget that follows one within it, after that calm phase, shortened to 20 s and 2 s.
    static let profiles: [Profile] = {
        let phases = Scenario.cyberMonday.phases
        return phases.indices.dropFirst()
            .filter { phases[$0].errorRate > 0.1 && phases[$0 - 1].errorRate <= 0.1 }
            .map { index in
                var calm = phases[index - 1]
                var incident = phases[index]
                calm.durationSeconds = 20
                incident.durationSeconds = 2
                return Profile(calm: calm, incident: incident)
            }
    }()

    @Test(arguments: profiles)
    func leavesClosedWhereTheIdealBankFires(_ profile: Profile) throws {
        let slo = try SLO(successRate: 0.90, timeout: .milliseconds(1_500))
        #expect(Self.profiles.count == 3)
        let scenario = try Scenario(name: profile.incident.label, phases: [profile.calm, profile.incident])
        let budget = 0.1
        let alternatives = [0.2, 0.2 * (0.95 / 0.2).squareRoot(), 0.95]
        for seed: UInt64 in 1...6 {
            var stream = EventStream(generator: LoadGenerator(scenario: scenario, seed: seed, mode: .goCompatible),
                                     scenario: scenario)
            let levee = Levee(slo: slo)
            var bank = IdealBank(budget: budget, alternatives: alternatives)
            var permits: [Int64: Permit] = [:]
            var incidentStart: Int64?
            var idealFired: Int64?
            var leveeLeftClosed: Int64?
            while idealFired == nil || leveeLeftClosed == nil, let event = stream.next() {
                switch event.kind {
                case .start:
                    if incidentStart == nil, event.request.phaseIndex == 1 { incidentStart = event.time }
                    if case .admitted(let permit) = try levee.acquire(at: event.time) {
                        permits[event.requestID] = permit
                    }
                case .success, .failure:
                    guard let permit = permits.removeValue(forKey: event.requestID) else { continue }
                    let failed = event.kind == .failure
                    // Until Levee leaves closed it admits every call, so both see the same outcomes.
                    if idealFired == nil, leveeLeftClosed == nil,
                       bank.fires(failure: failed, threshold: Foundation.log(1e8)) {
                        idealFired = event.time
                    }
                    try levee.release(permit, outcome: failed ? .failure : .success, at: event.time)
                    if leveeLeftClosed == nil, levee.state != .closed { leveeLeftClosed = event.time }
                }
            }
            let start = try #require(incidentStart, "seed \(seed)")
            let ideal = try #require(idealFired, "seed \(seed): the ideal bank never fired")
            #expect(leveeLeftClosed == ideal, "seed \(seed)")
            // Sanity: the bank fires in the incident, once its first outcomes are in, not in the calm.
            #expect(ideal > start && ideal - start < 600_000_000, "seed \(seed): \(ideal - start) ns")
        }
    }
}
