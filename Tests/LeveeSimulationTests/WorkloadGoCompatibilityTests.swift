import Foundation
import Testing
@testable import LeveeSimulation

@Suite("Go-compatible load generation")
struct WorkloadGoCompatibilityTests {
    @Test("the first 1,000 weekly requests match the Go loadgen (seed 20241225)")
    func weeklyFirstThousand() {
        var generator = LoadGenerator(scenario: .weeklyTraffic, seed: 20_241_225, mode: .goCompatible)
        var successes = 0
        var errors = 0
        var durationSum: Int64 = 0
        for _ in 0..<1_000 {
            guard let request = generator.next() else { break }
            if request.isSuccess { successes += 1 } else { errors += 1 }
            durationSum += request.duration
        }
        #expect(successes == 944)
        #expect(errors == 56)
        #expect(durationSum == 146_561_484_688)
    }

    @Test("the CLI-facing check runner reports the quick check as passing and names mismatches")
    func checkRunner() throws {
        let quick = try #require(GoCompatibilityCheck.checks.first)
        let result = GoCompatibilityCheck.run(quick)
        #expect(result.passed, "\(result)")
        #expect(result.actual.requests == 1_000)

        var wrong = quick
        wrong.expected.errors = 57
        let failed = GoCompatibilityCheck.run(wrong)
        #expect(!failed.passed)
        #expect(failed.mismatches == ["errors: expected 57, got 56"])
        #expect(failed.description.hasPrefix("FAIL"))
    }

    @Test("the Go-compatible stream starts like the Go loadgen's: first request at 0")
    func firstRequestAtZero() throws {
        var generator = LoadGenerator(scenario: .cyberMonday, seed: GoCompatibilityCheck.seed)
        let next = generator.next()
        let first = try #require(next)
        #expect(first.start == 0)
        #expect(first.phaseIndex == 0)
    }

    /// The 25,000,000-request and full Cyber Monday checks take about 23 s in a debug build
    /// (0.3 s and 0.8 s in release), so they only run on request:
    /// `LEVEE_GO_CHECKS=1 swift test --filter WorkloadGoCompatibilityTests`.
    @Test(
        "every published Go value is reproduced (long; set LEVEE_GO_CHECKS=1)",
        .enabled(if: ProcessInfo.processInfo.environment["LEVEE_GO_CHECKS"] != nil))
    func allPublishedValues() {
        for result in GoCompatibilityCheck.run() {
            #expect(result.passed, "\(result)")
        }
    }
}
