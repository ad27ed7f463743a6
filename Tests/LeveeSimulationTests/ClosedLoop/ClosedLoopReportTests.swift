import Foundation
import Levee
import Testing
@testable import LeveeSimulation

@Suite("Closed loop: series for the report, and the HTML page")
struct ClosedLoopReportTests {
    /// 40 s calm at 100 RPS, 15 s of a 1,000 RPS storm with 60 % errors (an incident and an
    /// overload for the backend), 25 s calm.
    let scenario = TestSupport.scenario([(40, 6000, 0.005), (15, 60_000, 0.6), (25, 6000, 0.005)], name: "report-test")

    func configuration(seriesSeed: UInt64?) -> ClosedLoopConfiguration {
        var configuration = ClosedLoopConfiguration(
            scenario: scenario, slo: TestSupport.slo(), seeds: [7, 8], candidates: [.levee, .allowAll], parallelism: 2)
        configuration.seriesSeed = seriesSeed
        return configuration
    }

    @Test("Bucket totals equal the run's own counters; demand per bucket is the phase's rate")
    func bucketTotals() throws {
        let result = try ClosedLoopBenchmark.run(configuration(seriesSeed: 7))
        let series = try #require(result.series)
        #expect(series.seed == 7)
        #expect(series.candidates.map(\.identifier) == ["levee", "allow-all"])
        let seed = try #require(result.seedResults.first { $0.seed == 7 })
        for candidate in series.candidates {
            let counters = try #require(seed.result(for: candidate.identifier))
            func total(_ values: [Int32]) -> Int { values.reduce(0) { $0 + Int($1) } }
            #expect(candidate.bucketSeconds == 1)
            #expect(total(candidate.exogenous) == counters.offered)
            #expect(total(candidate.attempts) == counters.allowed + counters.blocked)
            #expect(total(candidate.admitted) == counters.allowed)
            #expect(total(candidate.succeeded) == counters.successes)
            #expect(total(candidate.failed) == counters.failures)
            #expect(total(candidate.goodput) == counters.goodput)
            for bucket in 0..<candidate.count {
                #expect(candidate.throttledDecisions[bucket] + candidate.openDecisions[bucket] <= candidate.attempts[bucket])
                #expect(candidate.downNanoseconds[bucket] >= 0 && candidate.downNanoseconds[bucket] <= 1_000_000_000)
            }
            if counters.backend.crashes == 0 { #expect(candidate.downNanoseconds.allSatisfy { $0 == 0 }) }
            // 100 RPS in the calm phase: the mean of 36 Poisson buckets has a standard deviation of 1.7.
            let calm = candidate.exogenous[2..<38].reduce(0) { $0 + Double($1) } / 36
            #expect(abs(calm - 100) < 7, "calm demand \(calm) per second")
            let storm = candidate.exogenous[42..<53].reduce(0) { $0 + Double($1) } / 11
            #expect(abs(storm - 1000) < 40, "storm demand \(storm) per second")
            #expect(candidate.replicas[10] >= 1)
        }
        // Allow-all admits every attempt; the storm overloads its backend.
        let allowAll = try #require(series.candidates.last)
        #expect(allowAll.admitted == allowAll.attempts)
        #expect(allowAll.load.max()! > 1)
    }

    @Test("Recording changes no result: the same JSON with and without a series seed")
    func recordingIsInvisible() throws {
        var plain = try ClosedLoopBenchmark.run(configuration(seriesSeed: nil))
        var recorded = try ClosedLoopBenchmark.run(configuration(seriesSeed: 7))
        #expect(plain.series == nil)
        #expect(recorded.series != nil)
        plain.wallSeconds = 0
        recorded.wallSeconds = 0
        #expect(plain.seedResults == recorded.seedResults)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let plainJSON = try encoder.encode(plain)
        #expect(plainJSON == (try encoder.encode(recorded)))
        #expect(!String(decoding: plainJSON, as: UTF8.self).contains("throttledDecisions"))
    }

    @Test("Bucket width keeps any run within the bucket limit; bins merge whole buckets")
    func bucketArithmetic() throws {
        #expect(ClosedLoopSeriesRecorder.bucketSeconds(forRunSeconds: 80) == 1)
        #expect(ClosedLoopSeriesRecorder.bucketSeconds(forRunSeconds: 20_000) == 1)
        #expect(ClosedLoopSeriesRecorder.bucketSeconds(forRunSeconds: 20_001) == 2)
        #expect(ClosedLoopSeriesRecorder.bucketSeconds(forRunSeconds: 100_800) == 6)
        let cyberMonday = ClosedLoopSeriesRecorder(scenario: .cyberMonday, identifier: "x", name: "X")
        #expect(cyberMonday.series.bucketSeconds == 6)
        #expect(cyberMonday.series.count <= ClosedLoopSeriesRecorder.maximumBuckets + 2)
        #expect(cyberMonday.bucket(-5) == 0 && cyberMonday.bucket(.max) == cyberMonday.series.count - 1)

        // Buckets of 2 s; seconds 3..<15 touch buckets 1...7; at most 3 bins: 3 buckets (6 s) per bin.
        let bins = ClosedLoopBins(bucketSeconds: 2, bucketCount: 10, from: 3, to: 15, maximumBins: 3)
        #expect(bins.firstBucket == 1 && bins.bucketsPerBin == 3 && bins.count == 3)
        #expect(bins.startSecond == 2 && bins.binSeconds == 6 && bins.endSecond == 20)
        // The last bin runs past the window to whole buckets (seconds 14..<20).
        let counts: [Int32] = [100, 6, 12, 18, 0, 0, 60, 6, 30, 0]
        #expect(bins.rate(counts) == [6, 10, 6])
        #expect(bins.peak(counts) == [18, 60, 30])
        #expect(bins.share([3, 3, 6, 9, 0, 0, 0, 0, 0, 0], of: counts) == [0.5, 0, 0])
        #expect(bins.downShare([0, 3_000_000_000, 0, 0, 0, 0, 0, 0, 0, 0]) == [0.5, 0, 0])
    }

    @Test("The report is one self-contained page with a chart per candidate per window")
    func report() throws {
        let configuration = configuration(seriesSeed: 7)
        let result = try ClosedLoopBenchmark.run(configuration)
        let report = try ClosedLoopReport(result: result, series: try #require(result.series), configuration: configuration)
        let windows = report.windows()
        // One incident (the storm), then the overload peak.
        #expect(windows.count == 2)
        #expect(windows[0].title.hasPrefix("Incident 1: 0:00:40"))
        #expect(windows[1].title.hasPrefix("Largest overload"))

        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("levee-cl-report-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = try report.write(toDirectory: directory.path)
        let html = try String(contentsOfFile: path, encoding: .utf8)
        #expect(path.hasSuffix("index.html"))
        #expect(!html.contains("http://") && !html.contains("https://"))
        #expect(!html.contains("<script") && !html.contains("<link") && !html.contains("<img"))
        #expect(html.components(separatedBy: "<svg class=\"chart\"").count - 1 == 2 * (1 + windows.count))
        for name in ["Levee", "AllowAll"] {
            #expect(html.contains("aria-label=\"\(name) over the whole run\""))
        }
        for bad in ["NaN", ">nan", "\"nan", " nan", "inf\""] { #expect(!html.contains(bad)) }
        #expect(html.hasSuffix("</html>\n"))

        // The charted series as CSV beside the page: a header, then one row per candidate and bucket.
        let series = try #require(result.series)
        let csv = try String(contentsOf: directory.appendingPathComponent("series.csv"), encoding: .utf8)
        let lines = csv.split(separator: "\n")
        #expect(lines.first?.hasPrefix("candidate,bucket_start_s,exogenous,attempts,admitted,") == true)
        #expect(lines.count == 1 + series.candidates.reduce(0) { $0 + $1.count })
        let first = series.candidates[0]
        #expect(lines[1] == "\(first.identifier),0,\(first.exogenous[0]),\(first.attempts[0]),\(first.admitted[0]),"
            + "\(first.succeeded[0]),\(first.failed[0]),\(first.goodput[0]),\(first.throttledDecisions[0]),"
            + "\(first.openDecisions[0]),\(first.replicas[0]),\(first.load[0]),\(first.queued[0]),\(first.downNanoseconds[0] / 1_000_000)")
        #expect(lines.allSatisfy { $0.split(separator: ",", omittingEmptySubsequences: false).count == 14 })
    }
}
