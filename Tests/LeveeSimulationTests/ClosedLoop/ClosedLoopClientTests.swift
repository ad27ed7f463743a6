import Foundation
import Levee
import Testing
@testable import LeveeSimulation

@Suite("Closed loop: scoring arithmetic, demand, client retries and budgets")
struct ClosedLoopClientTests {
    let second = TestSupport.second

    @Test("Delta reproduces the original's published arithmetic (Levee, P1)")
    func publishedDelta() {
        // (135,522.61 − 15,666.97) × 34,686,248 / 56,518,826 = 73,556.8.
        let delta = EpochScore.delta(successScore: 135_522.61, failureScore: 15_666.97, allowed: 34_686_248, blocked: 21_832_578)
        #expect(abs(delta - 73_556.78) < 0.05)
        // The other published rows check out too (Static-Peak, No-CB).
        #expect(abs(EpochScore.delta(successScore: 130_072.05, failureScore: 15_985.79, allowed: 30_466_218, blocked: 26_052_608) - 61_497.68) < 0.05)
        #expect(abs(EpochScore.delta(successScore: 132_026.73, failureScore: 201_637.85, allowed: 56_518_826, blocked: 0) + 69_611.12) < 0.01)
        #expect(EpochScore.delta(successScore: 1, failureScore: 0, allowed: 0, blocked: 0) == 0)
    }

    @Test("Epoch scores: 200 ms buckets by outcome time, √(5 Σ s²) and √(5 Σ f²)")
    func epochs() {
        var score = EpochScore()
        let epoch = EpochScore.epochNanoseconds
        // Epoch 0: 3 successes, 1 failure; epoch 1: 2 successes; epoch 5: 4 failures.
        for time in [0, 10, epoch - 1] { score.record(succeeded: true, at: time) }
        score.record(succeeded: false, at: 5)
        score.record(succeeded: true, at: epoch)
        score.record(succeeded: true, at: 2 * epoch - 1)
        for _ in 0..<4 { score.record(succeeded: false, at: 5 * epoch + 7) }
        #expect(score.successes == 5)
        #expect(score.failures == 5)
        #expect(abs(score.successScore - (5.0 * (9 + 4)).squareRoot()) < 1e-12)
        #expect(abs(score.failureScore - (5.0 * (1 + 16)).squareRoot()) < 1e-12)
    }

    @Test("Exogenous demand: the same seed gives the same arrivals; the count is Poisson at the phase rates")
    func demand() {
        let scenario = TestSupport.scenario([(60, 6000, 0.005), (0.5, 120_000, 0.005), (30, 0, 0), (60, 12_000, 0.005)])
        func arrivals(seed: UInt64) -> [Int64] {
            var demand = ExogenousDemand(scenario: scenario, seed: seed)
            var times: [Int64] = []
            while demand.nextTime != .max {
                #expect(demand.nextIndex == UInt64(times.count))
                times.append(demand.nextTime)
                demand.take()
            }
            return times
        }
        let first = arrivals(seed: 5)
        #expect(first == arrivals(seed: 5))
        #expect(first != arrivals(seed: 6))
        #expect(zip(first, first.dropFirst()).allSatisfy { $0 <= $1 })
        // 6,000 + 1,000 + 0 + 12,000 expected; Poisson sd ≈ 138, so ±5 sd is 690.
        #expect(abs(first.count - 19_000) < 690, "\(first.count)")
        // Nothing arrives in the idle phase (60.5 s to 90.5 s, give or take one overshoot).
        #expect(!first.contains { $0 > 61 * second && $0 < 90 * second })
    }

    @Test("Back-off delays: full jitter within [0, min(cap, base·2^(k−2))], mean half the bound; without jitter, the bound")
    func backoff() {
        let base: Int64 = 100_000_000, cap: Int64 = 1_000_000_000
        let policy = ClientPolicy(retry: .exponentialBackoff(baseNanoseconds: base, capNanoseconds: cap, maxAttempts: 10, jitter: true))
        let fixed = ClientPolicy(retry: .exponentialBackoff(baseNanoseconds: base, capNanoseconds: cap, maxAttempts: 10, jitter: false))
        for attempt in 2...10 {
            let bound = min(cap, base << Int64(attempt - 2))
            #expect(fixed.delay(beforeAttempt: attempt, unit: 0.3) == bound)
            var sum = 0.0
            let draws = 4000
            for index in 0..<draws {
                let unit = CommonRandom.uniform(seed: 9, id: UInt64(index), purpose: .retryJitter)
                let delay = policy.delay(beforeAttempt: attempt, unit: unit)
                #expect(delay >= 0 && delay <= bound)
                sum += Double(delay)
            }
            // Uniform on [0, b]: mean b/2, standard error b/√(12n) ≈ 0.0046 b; allow 5 of them.
            #expect(abs(sum / Double(draws) / Double(bound) - 0.5) < 0.023)
        }
        #expect(ClientPolicy(retry: .immediate(maxAttempts: 4)).delay(beforeAttempt: 3, unit: 0.9) == 0)
        // No overflow with absurd attempt numbers.
        #expect(fixed.delay(beforeAttempt: 100, unit: 0) == cap)
    }

    @Test("Retry budget: retries never exceed the ratio of first attempts over the sliding window")
    func budgetWindow() {
        var window = RetryBudgetWindow(ClientPolicy.RetryBudget(ratio: 0.1, windowNanoseconds: 10 * second))
        // 100 first attempts in second 0: 10 retries fit, the 11th does not.
        for _ in 0..<100 { window.recordFirstAttempt(at: 0) }
        let first = (0..<20).filter { _ in window.withdrawRetry(at: 500_000_000) }.count
        #expect(first == 10)
        // Still inside the window at 9.9 s; after it (10 s on) the old attempts are forgotten.
        var decisions: [Bool] = []
        decisions.append(window.withdrawRetry(at: 9 * second + 900_000_000))
        decisions.append(window.withdrawRetry(at: 10 * second))
        for _ in 0..<10 { window.recordFirstAttempt(at: 10 * second) }
        decisions.append(window.withdrawRetry(at: 10 * second))
        decisions.append(window.withdrawRetry(at: 10 * second))
        // A long gap clears everything.
        decisions.append(window.withdrawRetry(at: 1000 * second))
        #expect(decisions == [false, false, true, false, false])
        var unlimited = RetryBudgetWindow(nil)
        let granted = unlimited.withdrawRetry(at: 0)
        #expect(granted)
    }

    @Test("Policy validation names the problem")
    func validation() {
        #expect(throws: ClosedLoopError.self) { try ClientPolicy(retry: .immediate(maxAttempts: 0)).validated() }
        #expect(throws: ClosedLoopError.self) { try ClientPolicy(retry: .immediate(maxAttempts: 101)).validated() }
        #expect(throws: ClosedLoopError.self) {
            try ClientPolicy(retry: .exponentialBackoff(baseNanoseconds: 0, capNanoseconds: 1, maxAttempts: 3, jitter: true)).validated()
        }
        #expect(throws: ClosedLoopError.self) {
            try ClientPolicy(retry: .exponentialBackoff(baseNanoseconds: 10, capNanoseconds: 5, maxAttempts: 3, jitter: true)).validated()
        }
        #expect(throws: ClosedLoopError.self) { try ClientPolicy(retry: .none, budget: .init(ratio: .nan)).validated() }
        #expect(throws: ClosedLoopError.self) { try ClientPolicy(retry: .none, budget: .init(ratio: 0.1, windowNanoseconds: 5)).validated() }
        #expect((try? ClientPolicy.standard.validated()) == .standard)
        #expect(ClientPolicy.standard.maxAttempts == 3)
        #expect(ClientPolicy.original.maxAttempts == 1)
    }

    @Test("Load and error scaling follow the original's sweep: truncated RPM (at least 1), error rate capped at 0.95")
    func scaling() throws {
        let scenario = TestSupport.scenario([(10, 6001, 0.4), (10, 1, 0.005), (10, 0, 0.0), (10, 100, 0.97)])
        let scaled = try ClosedLoopConfiguration.scaled(scenario, load: 0.5, errors: 3)
        #expect(scaled.phases.map(\.rpm) == [3000, 1, 0, 50])
        #expect(zip(scaled.phases.map(\.errorRate), [0.95, 0.015, 0.0, 0.97]).allSatisfy { abs($0 - $1) < 1e-12 })
        #expect(try ClosedLoopConfiguration.scaled(scenario, load: 1, errors: 1) == scenario)
        #expect(throws: ClosedLoopError.self) { try ClosedLoopConfiguration.scaled(scenario, load: 0, errors: 1) }
        #expect(throws: ClosedLoopError.self) { try ClosedLoopConfiguration.scaled(scenario, load: .infinity, errors: 1) }
        #expect(throws: ClosedLoopError.self) { try ClosedLoopConfiguration.scaled(scenario, load: 1, errors: -1) }
    }

    @Test("Retry timers pop in time order, ties by request identity")
    func retryHeap() {
        var heap = RetryHeap(reservingCapacity: 4)
        var reference: [RetryTimer] = []
        for index in 0..<500 {
            let unit = CommonRandom.uniform(seed: 1, id: UInt64(index), purpose: .retryJitter)
            let timer = RetryTimer(time: Int64(unit * 50), arrivalIndex: UInt64(index % 7), arrivalTime: 0, attempt: Int32(index % 3))
            heap.push(timer)
            reference.append(timer)
        }
        reference.sort(by: RetryTimer.precedes)
        var popped: [RetryTimer] = []
        while !heap.isEmpty { popped.append(heap.pop()) }
        #expect(popped.map(\.time) == reference.map(\.time))
        #expect(popped.map(\.arrivalIndex) == reference.map(\.arrivalIndex))
        var ring = IndexRing(capacity: 2)
        for value in 0..<100 { ring.append(Int32(value)) }
        #expect((0..<100).map { _ in ring.removeFirst() } == Array(0..<100))
    }
}
