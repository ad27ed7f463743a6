import ArgumentParser
import Levee
import LeveeSimulation
import Testing
@testable import LeveeCLI

@Suite("levee tune, static specs in levee bench, and Levee's probe budget")
struct TuneAndProbeBudgetTests {
    func status<Command: ParsableCommand>(_ command: Command.Type, _ arguments: [String]) -> Int32? {
        do {
            _ = try Command.parse(arguments)
            return nil
        } catch {
            return LeveeCommand.exitStatus(for: error)
        }
    }

    func message<Command: ParsableCommand>(_ command: Command.Type, _ arguments: [String]) -> String {
        do {
            _ = try Command.parse(arguments)
            return ""
        } catch {
            return Command.message(for: error)
        }
    }

    @Test("tune: bad values exit with status 2", arguments: [
        ["--training-seeds", "0"], ["--training-seeds", "x"], ["--evaluation-seeds", ""],
        ["--training-seeds", "20241225,"], ["--training-seeds", "1", "--evaluation-seeds", "1"],
        ["--thresholds", "0"], ["--thresholds", "a"], ["--thresholds", ","], ["--windows", "-1s"], ["--opens", "soon"],
        ["--probes", "0"], ["--refine", "5"], ["--refine", "-1"], ["--per-pass", "0"], ["--top", "0"], ["--threads", "0"],
        ["--slo", "1"], ["--slo-timeout-ms", "0"], ["--scenario", "/nonexistent.csv"],
    ])
    func tuneBadValues(arguments: [String]) {
        #expect(status(TuneCommand.self, arguments) == 2)
    }

    @Test("tune: messages name the option")
    func tuneMessages() {
        #expect(message(TuneCommand.self, ["--training-seeds", "20241225,"]).contains("--evaluation-seeds must not overlap --training-seeds"))
        #expect(message(TuneCommand.self, ["--thresholds", "0"]).contains("--thresholds"))
        #expect(message(TuneCommand.self, ["--opens", "soon"]).contains("--opens: 'soon' is not a positive duration"))
    }

    @Test("tune: defaults train on seeds 1-3, disjoint from the evaluation seeds; grid overrides replace one list each")
    func tunePlan() throws {
        let defaults = try TuneCommand.parse([]).plan()
        #expect(defaults.trainingSeeds == [1, 2, 3])
        #expect(defaults.evaluationSeeds == OpenLoopConfiguration.consecutiveSeeds(count: 5))
        #expect(defaults.grid == StaticBreakerGrid.standard)
        let command = try TuneCommand.parse(["--thresholds", "5,50", "--opens", "500ms,2m", "--training-seeds", "7,8"])
        let plan = try command.plan()
        #expect(plan.grid.thresholds == [5, 50])
        #expect(plan.grid.opensNanoseconds == [500_000_000, 120_000_000_000])
        #expect(plan.grid.windowsNanoseconds == StaticBreakerGrid.standard.windowsNanoseconds)
        #expect(plan.trainingSeeds == [7, 8])
        let best = try StaticWindowBreaker.Configuration(spec: "static(threshold=5,window=1s,open=2m,probes=1)")
        let bench = command.benchCommand(for: best, plan: plan)
        #expect(bench.contains("--seeds 5 "))
        #expect(bench.hasSuffix("--candidates 'levee,static-peak,static(threshold=5,window=1s,open=120s,probes=1)'"))
        // The printed command parses as a bench invocation naming the same configuration.
        let benchPlan = try BenchCommand.parse(["--seeds", "5", "--candidates", "levee,static-peak,\(best.spec)"]).plan()
        #expect(benchPlan.candidates.map(\.identifier) == ["levee", "static-peak", best.spec])
    }

    @Test("bench: a bad static spec exits with status 2 and says why")
    func benchSpecs() {
        #expect(status(BenchCommand.self, ["--candidates", "levee,static(threshold=5,window=10s,open=30s)"]) == 2)
        #expect(message(BenchCommand.self, ["--candidates", "static(threshold=5,window=10s,open=30s)"]).contains("'probes' is missing"))
        #expect(status(BenchCommand.self, ["--candidates", "static(threshold=5,window=10s,open=30s,probes=2)"]) == nil)
    }

    func budget(rps: Double = 100, age: Double = 0, latency: Double? = nil, timeout: Double = 0.25) throws -> LeveeProbeBudget {
        try LeveeProbeBudget(
            dependencies: 42, threads: 2, slo: SLO(successRate: 0.99, timeout: .nanoseconds(Int64(timeout * 1e9))),
            healthyRequestsPerSecond: rps, outageAgeSeconds: age, failureLatencySeconds: latency)
    }

    @Test("Levee's probe budget: the worked example, 2 % of 100 calls/s, each holding a worker for the 0.25 s timeout")
    func workedExample() throws {
        #expect(LeveeProbeBudget.baseProbeFraction == 0.02)
        #expect(LeveeProbeBudget.probeBackoffSeconds == 600)
        let result = try budget().evaluate()
        #expect(abs(result.probesPerSecond - 2) < 1e-12)
        // One probe per second, a sixteenth of that once the probes have failed.
        #expect(abs(result.floorProbesPerSecond - 1.0 / 16) < 1e-12)
        // 42 × 2 × 0.25 / 2 = 10.5.
        #expect(abs(result.extraUtilization - 10.5) < 1e-9)
        // Fast failures (5 ms) hold a worker 50 times less.
        #expect(abs(try budget(latency: 0.005).evaluate().extraUtilization - 0.21) < 1e-9)
    }

    @Test("The floor dominates sparse traffic, scales with the timeout, and the back-off halves everything after 30 minutes")
    func floorAndBackoff() throws {
        // The floor, one probe per second backed off sixteenfold while probes fail, beats 2 % of 1 call/s.
        let sparse = try budget(rps: 1).evaluate()
        #expect(abs(sparse.probesPerSecond - 1.0 / 16) < 1e-12)
        #expect(abs(sparse.extraUtilization - 42 * 0.25 / 2 / 16) < 1e-9)
        // A 2 s timeout: the floor is one probe per 4 s, per 64 s backed off, below the 2 % budget.
        let slow = try budget(rps: 1, timeout: 2).evaluate()
        #expect(abs(slow.floorProbesPerSecond - 1.0 / 64) < 1e-12)
        #expect(abs(slow.probesPerSecond - 0.02) < 1e-12)
        let later = try budget(age: 1800).evaluate()
        #expect(abs(later.backoff - 2) < 1e-12)
        #expect(abs(later.extraUtilization - 10.5 / 2) < 1e-9)
    }

    @Test("Bad probe-budget parameters are refused, and the equation's flags exit with status 2", arguments: [
        ["--levee-rps", "0"], ["--levee-rps", "nan"], ["--levee-rps", "1e300"], ["--levee-failure-latency", "1e300"], ["--levee-slo", "1"], ["--levee-slo", "0"], ["--levee-slo-timeout", "0"],
        ["--levee-slo-timeout", "-1"], ["--outage-age", "-1"], ["--outage-age", "inf"], ["--levee-failure-latency", "0"],
        ["--dependencies", "0"],
    ])
    func badFlags(arguments: [String]) {
        #expect(status(EquationCommand.self, arguments) == 2)
    }

    @Test("Equation messages name the Levee flag; the report shows both figures")
    func equationReport() throws {
        #expect(message(EquationCommand.self, ["--levee-rps", "-3"]).contains("--levee-rps"))
        #expect(message(EquationCommand.self, ["--outage-age", "-1"]).contains("--outage-age"))
        #expect(throws: CircuitBreakerEquationError.self) { try budget(rps: -1) }
        let command = try EquationCommand.parse([])
        let text = EquationCommand.render(try command.leveeBudget())
        #expect(text.contains("extra utilisation while unhealthy: 1050.0 %"))
    }
}
