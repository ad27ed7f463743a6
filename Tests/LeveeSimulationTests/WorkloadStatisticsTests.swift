import Testing
@testable import LeveeSimulation

@Suite("Load statistics")
struct WorkloadStatisticsTests {
    @Test("histogram quantiles are within 0.5 % of the exact order statistics")
    func histogramAccuracy() {
        var histogram = LatencyHistogram()
        var values: [Int64] = []
        var random = Xoshiro256PlusPlus(seed: 12)
        for _ in 0..<50_000 {
            // Log-uniform from 1 µs to 10 s.
            let value = Int64(1_000 * pow10(random.goFloat64() * 7))
            values.append(value)
            histogram.record(value)
        }
        values.sort()
        for q in [0.01, 0.1, 0.5, 0.9, 0.99, 0.999] {
            let exact = Double(values[Int((q * Double(values.count)).rounded(.up)) - 1])
            let estimate = histogram.quantile(q)!
            #expect(abs(estimate - exact) / exact < 0.005, "q = \(q)")
        }
        #expect(LatencyHistogram().quantile(0.5) == nil)
    }

    /// 10^x without platform math, by repeated squaring of the fractional part's series.
    func pow10(_ x: Double) -> Double {
        let whole = Int(x)
        var result = 1.0
        for _ in 0..<whole { result *= 10 }
        let fraction = (x - Double(whole)) * 2.302585092994046
        var term = 1.0
        var sum = 1.0
        for k in 1...25 {
            term *= fraction / Double(k)
            sum += term
        }
        return result * sum
    }

    @Test("small values are exact and bucket bounds tile the range")
    func bucketLayout() {
        for value in [Int64(0), 1, 127, 128, 129, 255, 256, 1_000_000] {
            let (low, width) = LatencyHistogram.bucketBounds(LatencyHistogram.bucketIndex(of: value))
            #expect(UInt64(value) >= low && UInt64(value) < low + width)
        }
        var expectedLow: UInt64 = 0
        for index in 0..<(LatencyHistogram.bucketCount - 1) {
            let (low, width) = LatencyHistogram.bucketBounds(index)
            #expect(low == expectedLow)
            expectedLow = low + width
        }
        #expect(LatencyHistogram.bucketIndex(of: .max) == LatencyHistogram.bucketCount - 1)
        #expect(LatencyHistogram.bucketIndex(of: -5) == 0)
    }

    @Test("per-phase summaries compare counts, errors and latencies with the targets")
    func summaries() throws {
        let scenario = try Scenario(
            name: "t",
            phases: [
                Phase(label: "a", durationSeconds: 60, rpm: 60_000, errorRate: 0.1, p50Milliseconds: 50, p99Milliseconds: 150, timeoutMilliseconds: 1_500),
                Phase(label: "b", durationSeconds: 60, rpm: 30_000, errorRate: 0.5, p50Milliseconds: 200, p99Milliseconds: 800, timeoutMilliseconds: 1_500),
            ])
        var statistics = LoadStatistics(scenario: scenario)
        var generator = LoadGenerator(scenario: scenario, seed: 31, mode: .fast)
        while let request = generator.next() { statistics.record(request) }
        let summaries = statistics.summary()
        #expect(summaries.map(\.label) == ["a", "b"])
        #expect(statistics.totalRequests == summaries.reduce(0) { $0 + $1.requests })
        for summary in summaries {
            #expect(summary.expectedRequests == Double(summary.rpm))
            #expect(abs(summary.requestCountDeviation) < 0.02)
            #expect(abs(summary.observedErrorRate - summary.targetErrorRate) < 4 * summary.errorRateStandardError)
            #expect(abs(summary.observedP50Milliseconds! - summary.targetP50Milliseconds) / summary.targetP50Milliseconds < 0.03)
        }
        // Requests naming no phase of the scenario are ignored.
        statistics.record(GeneratedRequest(start: 0, duration: 1, isSuccess: true, phaseIndex: 7))
        #expect(statistics.summary() == summaries)
    }
}
