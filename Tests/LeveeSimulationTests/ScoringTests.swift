import Levee
import Testing
@testable import LeveeSimulation

@Suite("Scoring: penalties on per-second buckets")
struct ScoringTests {
    typealias Request = TestSupport.Request
    let second = TestSupport.second

    /// 10 s healthy, 5 s at 50 % errors (the incident, [10 s, 15 s)), 10 s healthy.
    let scenario = TestSupport.scenario([(10, 60, 0.0), (5, 60, 0.5), (10, 60, 0.0)])

    @Test("L2 norm sums squares exactly")
    func l2Norm() {
        #expect(PenaltyScore.l2Norm([3, 4] as [Int32]) == 5)
        #expect(PenaltyScore.l2Norm([Int32]()) == 0)
        #expect(PenaltyScore.l2Norm([6, 8, 0, 0] as [Int]) == 10)
        let score = PenaltyScore(badPerSecond: [5, 12] as [Int32], lostPerSecond: [1] as [Int32])
        #expect(score.badTraffic == 13)
        #expect(score.lostBusiness == 1)
        #expect(score.totalPenalty == 14)
    }

    @Test("LostBusiness is the L2 norm of blocked healthy requests per start second")
    func lostBusinessBuckets() throws {
        // Second 0: three requests, second 1: four.
        var requests = (0..<3).map { Request(start: Int64($0) * 300_000_000, duration: 50_000_000, success: true) }
        requests += (0..<4).map { Request(start: second + Int64($0) * 200_000_000, duration: 50_000_000, success: true) }
        let (result, _) = try OpenLoopBenchmark.run(
            events: TestSupport.events(requests), scenario: scenario, slo: TestSupport.slo(),
            candidates: [.blockAll, .allowAll])
        let blockAll = try #require(result.result(for: "block-all"))
        #expect(blockAll.lostBusiness == 5)
        #expect(blockAll.badTraffic == 0)
        #expect(blockAll.blocked == 7)
        #expect(blockAll.goodBlocked == 7)
        let allowAll = try #require(result.result(for: "allow-all"))
        #expect(allowAll.totalPenalty == 0)
        #expect(allowAll.allowed == 7)
    }

    @Test("A request belongs to the second of its start: 0.999999999 s is second 0, 1 s is second 1")
    func bucketBoundary() throws {
        let requests = [
            Request(start: 0, duration: 1_000_000, success: true),
            Request(start: second - 1, duration: 1_000_000, success: true),
            Request(start: second, duration: 1_000_000, success: true),
        ]
        let (result, series) = try OpenLoopBenchmark.run(
            events: TestSupport.events(requests), scenario: scenario, slo: TestSupport.slo(), candidates: [.blockAll])
        // Buckets (2, 1), not (1, 2) or (3).
        #expect(result.candidates[0].lostBusiness == Double(5).squareRoot())
        #expect(Array(series.offeredPerSecond.prefix(3)) == [2, 1, 0])
    }

    @Test("BadTraffic counts admitted requests that start while the oracle is OPEN, bucketed per second")
    func badTrafficBuckets() throws {
        // 6 requests in second 10 and 8 in second 11 (inside the incident), 5 in second 15 (after it).
        var requests = (0..<6).map { Request(start: 10 * second + Int64($0) * 100_000_000, duration: 10_000_000, success: false) }
        requests += (0..<8).map { Request(start: 11 * second + Int64($0) * 100_000_000, duration: 10_000_000, success: true) }
        requests += (0..<5).map { Request(start: 15 * second + Int64($0) * 100_000_000, duration: 10_000_000, success: false) }
        let (result, _) = try OpenLoopBenchmark.run(
            events: TestSupport.events(requests), scenario: scenario, slo: TestSupport.slo(),
            candidates: [.allowAll, .blockAll])
        let allowAll = try #require(result.result(for: "allow-all"))
        #expect(allowAll.badTraffic == 10)
        #expect(allowAll.lostBusiness == 0)
        #expect(allowAll.badAllowed == 6)
        let blockAll = try #require(result.result(for: "block-all"))
        #expect(blockAll.badTraffic == 0)
        #expect(blockAll.lostBusiness == 5)
        #expect(result.prescient.requestsDuringIncidents == 14)
    }

    @Test("The oracle's boundaries are nominal: the last nanosecond before an incident is healthy, its first is not")
    func oracleBoundaryInScoring() throws {
        let requests = [
            Request(start: 10 * second - 1, duration: 1_000, success: true),
            Request(start: 10 * second, duration: 1_000, success: true),
            Request(start: 15 * second - 1, duration: 1_000, success: true),
            Request(start: 15 * second, duration: 1_000, success: true),
        ]
        let (result, _) = try OpenLoopBenchmark.run(
            events: TestSupport.events(requests), scenario: scenario, slo: TestSupport.slo(),
            candidates: [.allowAll, .blockAll])
        #expect(result.prescient.requestsDuringIncidents == 2)
        #expect(result.result(for: "allow-all")?.badTraffic == Double(2).squareRoot())
        #expect(result.result(for: "block-all")?.lostBusiness == Double(2).squareRoot())
    }

    @Test("Partial admission: bad and lost in the same run, scored separately")
    func scriptedCandidate() throws {
        // Admits only before 12 s: blocks healthy traffic from 15 s and admits incident traffic in [10, 12).
        let candidate = TestSupport.scripted("first-12s", admits: { $0 < 12 * 1_000_000_000 })
        let requests = (0..<25).map { Request(start: Int64($0) * second + 500_000_000, duration: 1_000_000, success: true) }
        let (result, _) = try OpenLoopBenchmark.run(
            events: TestSupport.events(requests), scenario: scenario, slo: TestSupport.slo(), candidates: [candidate])
        let scored = result.candidates[0]
        #expect(scored.badTraffic == Double(2).squareRoot())  // seconds 10 and 11
        #expect(scored.lostBusiness == Double(10).squareRoot())  // seconds 15 ... 24
        #expect(scored.allowed == 12)
        #expect(scored.blocked == 13)
    }
}

@Suite("Scoring: Student t confidence intervals")
struct ConfidenceIntervalTests {
    @Test("t quantiles match the tables", arguments: [
        (1.0, 12.7062), (2.0, 4.3027), (4.0, 2.7764), (9.0, 2.2622), (29.0, 2.0452), (1000.0, 1.9623),
    ])
    func quantiles(degrees: Double, expected: Double) {
        let quantile = StudentT.quantile(probability: 0.975, degreesOfFreedom: degrees)
        #expect(abs(quantile - expected) < 1e-4)
    }

    @Test("The CDF is symmetric and monotone")
    func cdf() {
        #expect(abs(StudentT.cdf(0, degreesOfFreedom: 3) - 0.5) < 1e-12)
        #expect(abs(StudentT.cdf(-2, degreesOfFreedom: 3) + StudentT.cdf(2, degreesOfFreedom: 3) - 1) < 1e-12)
        #expect(StudentT.cdf(1, degreesOfFreedom: 3) < StudentT.cdf(1.1, degreesOfFreedom: 3))
        // Cauchy (1 df): F(1) = 0.75.
        #expect(abs(StudentT.cdf(1, degreesOfFreedom: 1) - 0.75) < 1e-12)
    }

    @Test("Mean and 95 % half-width of a small sample")
    func estimate() throws {
        // mean 3, sample sd √2.5, n 5: half-width 2.7764 × √2.5 / √5.
        let estimate = Estimate([1, 2, 3, 4, 5])
        #expect(estimate.mean == 3)
        let halfWidth = try #require(estimate.halfWidth)
        #expect(abs(halfWidth - 2.776445 * (2.5).squareRoot() / (5.0).squareRoot()) < 1e-5)
        #expect(Estimate([42]).halfWidth == nil)
        #expect(Estimate([42]).mean == 42)
        #expect(Estimate([7, 7, 7]).halfWidth == 0)
    }
}
