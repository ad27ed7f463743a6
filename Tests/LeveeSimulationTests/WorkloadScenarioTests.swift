import Foundation
import Testing
@testable import LeveeSimulation

@Suite("Phases and scenarios")
struct WorkloadScenarioTests {
    static func phase(
        duration: Double = 60, rpm: Int = 600, errorRate: Double = 0.01,
        p50: Double = 50, p99: Double = 150, timeout: Double = 1_500
    ) throws(ScenarioError) -> Phase {
        try Phase(
            durationSeconds: duration, rpm: rpm, errorRate: errorRate, p50Milliseconds: p50,
            p99Milliseconds: p99, timeoutMilliseconds: timeout)
    }

    static func rejection(_ make: () throws(ScenarioError) -> Phase) -> ScenarioError? {
        do {
            _ = try make()
            return nil
        } catch {
            return error
        }
    }

    @Test("invalid phases are rejected with the offending column named")
    func invalidPhases() {
        let cases: [(String, () throws(ScenarioError) -> Phase)] = [
            ("p50_ms", { () throws(ScenarioError) in try Self.phase(p50: 150, p99: 150) }),
            ("p50_ms", { () throws(ScenarioError) in try Self.phase(p50: 200, p99: 150) }),
            ("p99_ms", { () throws(ScenarioError) in try Self.phase(p99: 1_500, timeout: 1_500) }),
            ("p99_ms", { () throws(ScenarioError) in try Self.phase(p99: 2_000, timeout: 1_500) }),
            ("p50_ms", { () throws(ScenarioError) in try Self.phase(p50: -1) }),
            ("p50_ms", { () throws(ScenarioError) in try Self.phase(p50: .nan) }),
            ("p99_ms", { () throws(ScenarioError) in try Self.phase(p99: .nan) }),
            ("timeout_ms", { () throws(ScenarioError) in try Self.phase(timeout: .infinity) }),
            ("timeout_ms", { () throws(ScenarioError) in try Self.phase(timeout: -5) }),
            // Beyond 10⁹ s a request's end no longer fits in Int64 nanoseconds with room to spare.
            ("timeout_ms", { () throws(ScenarioError) in try Self.phase(timeout: 1e12) }),
            ("timeout_ms", { () throws(ScenarioError) in try Self.phase(timeout: 1e300) }),
            ("duration_s", { () throws(ScenarioError) in try Self.phase(duration: 1e9) }),
            ("duration_s", { () throws(ScenarioError) in try Self.phase(duration: 0) }),
            ("duration_s", { () throws(ScenarioError) in try Self.phase(duration: -60) }),
            ("duration_s", { () throws(ScenarioError) in try Self.phase(duration: .nan) }),
            ("rpm", { () throws(ScenarioError) in try Self.phase(rpm: -1) }),
            ("error_rate", { () throws(ScenarioError) in try Self.phase(errorRate: 1.5) }),
            ("error_rate", { () throws(ScenarioError) in try Self.phase(errorRate: -0.1) }),
            ("error_rate", { () throws(ScenarioError) in try Self.phase(errorRate: .nan) }),
        ]
        for (column, make) in cases {
            let error = Self.rejection(make)
            #expect(error?.column == column)
            #expect(error?.description.contains("column \"\(column)\"") == true)
        }
        let ordering = Self.rejection { () throws(ScenarioError) in try Self.phase(p50: 150, p99: 150) }
        #expect(ordering?.message.contains("must be below p99") == true)
    }

    @Test("valid edge cases are accepted: idle phase, error rates 0 and 1")
    func validEdges() throws {
        _ = try Self.phase(rpm: 0)
        _ = try Self.phase(errorRate: 0)
        _ = try Self.phase(errorRate: 1)
        #expect(try Self.phase(duration: 1.5).durationNanoseconds == 1_500_000_000)
    }

    @Test("a scenario needs phases")
    func emptyScenario() {
        #expect(throws: ScenarioError.self) { try Scenario(name: "empty", phases: []) }
    }

    @Test("nominal boundaries and phase lookup")
    func boundaries() throws {
        let scenario = try Scenario(
            name: "three",
            phases: [Self.phase(duration: 10), Self.phase(duration: 20), Self.phase(duration: 30)])
        #expect(scenario.phaseStartNanoseconds == [0, 10_000_000_000, 30_000_000_000])
        #expect(scenario.totalDurationNanoseconds == 60_000_000_000)
        #expect(scenario.phaseIndex(atNominal: 0) == 0)
        #expect(scenario.phaseIndex(atNominal: 9_999_999_999) == 0)
        #expect(scenario.phaseIndex(atNominal: 10_000_000_000) == 1)
        #expect(scenario.phaseIndex(atNominal: 59_999_999_999) == 2)
        #expect(scenario.phaseIndex(atNominal: 60_000_000_000) == nil)
        #expect(scenario.phaseIndex(atNominal: -1) == nil)
    }

    // MARK: CSV

    static let header = "duration_s,rpm,error_rate,p50_ms,p99_ms,timeout_ms,label"

    @Test("CSV with optional label, extra columns and free column order")
    func csvParsing() throws {
        let csv = """
            notes,rpm,duration_s,p99_ms,p50_ms,error_rate,timeout_ms,label
            ignored,6000,14400,150.0,50.0,0.005,1500,"calm, quiet"

            x,90000,120,1200,500,0.6,1500,spike
            """
        let scenario = try Scenario(csv: csv, name: "custom")
        #expect(scenario.phases.count == 2)
        #expect(scenario.phases[0].label == "calm, quiet")
        #expect(scenario.phases[0].rpm == 6_000)
        #expect(scenario.phases[1].p99Milliseconds == 1_200)
        #expect(scenario.phases[1].durationSeconds == 120)
    }

    static func csvError(_ csv: String) -> ScenarioError? {
        do {
            _ = try Scenario(csv: csv, name: "bad")
            return nil
        } catch {
            return error
        }
    }

    @Test("CSV errors name the line and the column")
    func csvErrors() {
        let badNumber = Self.csvError("\(Self.header)\n60,600,0.01,50,150,1500,a\n60,six,0.01,50,150,1500,b")
        #expect(badNumber?.line == 3)
        #expect(badNumber?.column == "rpm")
        #expect(badNumber?.description.hasPrefix("line 3, column \"rpm\"") == true)

        let invalidPhase = Self.csvError("\(Self.header)\r\n60,600,0.01,500,150,1500,a")
        #expect(invalidPhase?.line == 2)
        #expect(invalidPhase?.column == "p50_ms")

        let missingColumn = Self.csvError("duration_s,rpm,error_rate,p50_ms,timeout_ms\n60,600,0.01,50,1500")
        #expect(missingColumn?.line == 1)
        #expect(missingColumn?.column == "p99_ms")

        let wrongWidth = Self.csvError("\(Self.header)\n60,600,0.01,50,150")
        #expect(wrongWidth?.line == 2)

        let empty = Self.csvError("\(Self.header)\n60,600,,50,150,1500,a")
        #expect(empty?.column == "error_rate")
        #expect(empty?.message.contains("missing") == true)

        let fractionalRPM = Self.csvError("\(Self.header)\n60,600.5,0.01,50,150,1500,a")
        #expect(fractionalRPM?.column == "rpm")

        #expect(Self.csvError("") != nil)
        #expect(Self.csvError(Self.header)?.message.contains("no phases") == true)
    }

    @Test("A scenario lasts less than 4·10⁹ s in all; the CSV error names the phase that passes it")
    func overlongScenario() throws {
        let row = "999000000,0,0.01,50,150,1500,long"
        let rows = Array(repeating: row, count: 5).joined(separator: "\n")
        let error = Self.csvError("\(Self.header)\n\(rows)")
        #expect(error?.line == 6)  // the fifth phase ends 4.995·10⁹ s in
        #expect(error?.column == "duration_s")
        #expect(error?.message.contains("4000000000") == true)

        let long = try Self.phase(duration: 999_000_000, rpm: 0)
        #expect(throws: ScenarioError.self) { try Scenario(name: "long", phases: Array(repeating: long, count: 5)) }
        let fits = try Scenario(name: "long", phases: Array(repeating: long, count: 4))
        #expect(fits.totalDurationNanoseconds == 4 * 999_000_000 * 1_000_000_000)
        // The longest timeout allowed, at the end of the longest scenario, still fits in Int64.
        #expect(Scenario.maximumTotalDurationSeconds * 1e9 + 1e18 < Double(Int64.max))
    }

    static var scenarioFilePath: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Scenarios/cyber-monday.csv").path
    }

    @Test("the embedded Cyber Monday scenario is byte for byte Scenarios/cyber-monday.csv")
    func embeddedCyberMondayMatchesFile() throws {
        let file = try Data(contentsOf: URL(fileURLWithPath: Self.scenarioFilePath))
        #expect(Array(Scenario.cyberMondayCSV.utf8) == Array(file))
        #expect(try Scenario.load(path: Self.scenarioFilePath).phases == Scenario.cyberMonday.phases)
    }

    static func variantPath(_ name: String) -> String {
        URL(fileURLWithPath: scenarioFilePath).deletingLastPathComponent()
            .appendingPathComponent("variants/\(name).csv").path
    }

    @Test("The shipped variants are Cyber Monday changed only as docs/benchmarks.md says")
    func shippedVariants() throws {
        let base = Scenario.cyberMonday.phases
        func load(_ name: String) throws -> [Phase] {
            let phases = try Scenario.load(path: Self.variantPath(name)).phases
            #expect(phases.map(\.durationSeconds) == base.map(\.durationSeconds))
            #expect(phases.map(\.label) == base.map(\.label))
            #expect(phases.map(\.timeoutMilliseconds) == base.map(\.timeoutMilliseconds))
            return phases
        }
        func close(_ a: Double, _ b: Double) -> Bool { abs(a - b) <= 1e-9 * max(1, abs(b)) }
        for (variant, phase) in zip(try load("slow3"), base) {
            let p99 = min(3 * phase.p99Milliseconds, 1_450)
            #expect(close(variant.p99Milliseconds, p99))
            #expect(close(variant.p50Milliseconds, min(3 * phase.p50Milliseconds, 0.6 * p99)))
            #expect(variant.rpm == phase.rpm && variant.errorRate == phase.errorRate)
        }
        for (variant, phase) in zip(try load("err12"), base) {
            #expect(close(variant.errorRate, min(1.2 * phase.errorRate, 0.95)))
            #expect(variant.rpm == phase.rpm && variant.p50Milliseconds == phase.p50Milliseconds)
        }
        for (variant, phase) in zip(try load("low"), base) {
            #expect(variant.rpm == max(1, phase.rpm / 20))
            #expect(variant.errorRate == phase.errorRate && variant.p99Milliseconds == phase.p99Milliseconds)
        }
        for (variant, phase) in zip(try load("partial"), base) {
            #expect(variant.errorRate == (phase.errorRate > 0.1 ? 0.15 : phase.errorRate))
            #expect(variant.rpm == phase.rpm && variant.p50Milliseconds == phase.p50Milliseconds)
        }
    }

    @Test("Cyber Monday's published aggregates")
    func cyberMondayAggregates() {
        let scenario = Scenario.cyberMonday
        #expect(scenario.phases.count == 122)
        #expect(scenario.totalDurationNanoseconds == 100_800 * 1_000_000_000)
        #expect(scenario.expectedRequests.rounded() == 56_524_317)
        #expect(scenario.phases.map(\.rpm).max() == 288_000)
        #expect(scenario.phases[1].label == "H0 midnight spike")
        #expect(scenario.phases.allSatisfy { $0.timeoutMilliseconds == 1_500 })
        // Mean latency of the nominal profile (50/150/1500 ms), from the reference notes.
        #expect(abs(scenario.phases[0].meanLatencyMilliseconds - 67.65) < 0.01)
    }

    @Test("the weekly workload matches the Go benchmark's table")
    func weeklyTraffic() {
        let phases = Scenario.weeklyTraffic.phases
        #expect(phases.count == 21)
        #expect(phases.map(\.rpm).reduce(0, +) == 630_000)
        #expect(phases.last?.rpm == 61_875)
        #expect(phases[15].p50Milliseconds == 110 && phases[20].p99Milliseconds == 800)
        #expect(Scenario.weeklyTraffic.expectedRequests == 302_400_000)
    }

    @Test("loading a missing file fails with a clear message")
    func missingFile() {
        do {
            _ = try Scenario.load(path: "/nonexistent/scenario.csv")
            Issue.record("expected an error")
        } catch {
            #expect(error.message.contains("/nonexistent/scenario.csv"))
            #expect(error.message.contains("No such file"))
        }
    }
}
