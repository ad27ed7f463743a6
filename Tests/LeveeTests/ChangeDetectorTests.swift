import Foundation
import Testing
@testable import Levee

/// The CUSUM bank skips successes while no detector holds evidence. These tests pin down that
/// the skip is exact: evidence, whether recorded or restored, still decays on every success.
@Suite struct ChangeDetectorTests {
    /// SLO 0.90: budget 0.1, lowest alternative (the down rate) 0.2.
    private static func detector() -> ChangeDetector {
        ChangeDetector(budget: 0.1, lowestAlternative: 0.2, threshold: ErrorPolicy.detectionThreshold)
    }

    private static let failureStep = log(0.2 / 0.1)
    private static let successStep = log(0.8 / 0.9)

    @Test func evidenceFromAFailureDecaysOnEverySuccessAndThenStaysAtZero() {
        var detector = Self.detector()
        #expect(detector.record(failure: false) == nil)
        #expect(detector.state.allSatisfy { $0 == 0 })

        #expect(detector.record(failure: true) == nil)
        var expected = Self.failureStep
        #expect(abs(detector.state[0] - expected) < 1e-12)
        // ln 2 / ln(0.9 / 0.8) ≈ 5.9: five successes leave evidence, the sixth clears it.
        for success in 1...5 {
            #expect(detector.record(failure: false) == nil)
            expected += Self.successStep
            #expect(abs(detector.state[0] - expected) < 1e-12, "after \(success) successes")
            #expect(detector.state[ChangeDetector.capacity] == Double(1 + success), "the run's length")
            #expect(detector.state[2 * ChangeDetector.capacity] == 1, "the run's failures")
        }
        #expect(detector.record(failure: false) == nil)
        #expect(detector.state.allSatisfy { $0 == 0 })
        #expect(detector.record(failure: false) == nil)
        #expect(detector.state.allSatisfy { $0 == 0 })
    }

    @Test func restoredEvidenceDecaysOnSuccesses() {
        var original = Self.detector()
        for _ in 0..<3 { _ = original.record(failure: true) }
        let state = original.state
        #expect(state[0] > 0)

        var restored = Self.detector()
        restored.reset()
        restored.restore(state: state)
        #expect(restored.state == state)
        _ = original.record(failure: false)
        _ = restored.record(failure: false)
        #expect(restored.state == original.state)
        #expect(restored.state[0] < state[0])
    }

    /// Over long random sequences at several SLOs, whenever no detector holds evidence no run is
    /// open either (the invariant that makes skipping a success exact), and a success never adds
    /// evidence.
    @Test(arguments: [0.5, 0.9, 0.99, 0.999])
    func noEvidenceMeansNoOpenRun(successRate: Double) throws {
        let budget = 1 - successRate
        let policy = ErrorPolicy(slo: try SLO(successRate: successRate, timeout: .seconds(1)))
        var detector = ChangeDetector(budget: budget, lowestAlternative: policy.downRate,
                                      threshold: ErrorPolicy.detectionThreshold)
        var seed = UInt64(successRate * 1_000)
        var openRunsWithoutEvidence = 0
        var successesAddingEvidence = 0
        var outcomesWithEvidence = 0
        for step in 0..<100_000 {
            // A failure rate that alternates, every 10,000 outcomes, between half and three
            // times the budget (a 64-bit LCG, so the sequence is fixed).
            seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let failed = Double(seed >> 11) * 0x1p-53 < budget * (step / 10_000 % 2 == 0 ? 0.5 : 3)
            let before = detector.state
            if detector.record(failure: failed) != nil { detector.reset() }
            let after = detector.state
            if after[0] > 0 { outcomesWithEvidence += 1 }
            for index in 0..<ChangeDetector.capacity {
                if after[index] == 0, after[ChangeDetector.capacity + index] != 0 || after[2 * ChangeDetector.capacity + index] != 0 {
                    openRunsWithoutEvidence += 1
                }
                if !failed, after[index] > before[index] { successesAddingEvidence += 1 }
            }
        }
        #expect(openRunsWithoutEvidence == 0)
        #expect(successesAddingEvidence == 0)
        #expect(outcomesWithEvidence > 1_000, "the sequence exercises recording with evidence too")
    }
}
