import ArgumentParser
import Levee
import LeveeSimulation
import Testing
@testable import LeveeCLI

@Suite("levee tune --closed-loop: options, defaults and the printed bench command")
struct TuneClosedLoopCLITests {
    func status(_ arguments: [String]) -> Int32? { TuneAndProbeBudgetTests().status(TuneCommand.self, arguments) }
    func message(_ arguments: [String]) -> String { TuneAndProbeBudgetTests().message(TuneCommand.self, arguments) }

    @Test("Bad closed-loop values exit with status 2", arguments: [
        ["--model", "original"], ["--queue-depth", "10"], ["--retry", "none"], ["--sweep", "load"],
        ["--closed-loop", "--model", "go"], ["--closed-loop", "--retry", "sometimes"], ["--closed-loop", "--queue-depth", "0"],
        ["--closed-loop", "--attempts", "0"], ["--closed-loop", "--retry", "none", "--attempts", "3"],
        ["--closed-loop", "--instances", "0"], ["--closed-loop", "--load-scale", "0"], ["--closed-loop", "--sweep", "slo"],
        ["--closed-loop", "--training-seeds", "20241225,"], ["--closed-loop", "--refine", "5"], ["--closed-loop", "--per-pass", "0"],
        ["--closed-loop", "--thresholds", "0"],
    ])
    func badValues(arguments: [String]) {
        #expect(status(arguments) == 2)
    }

    @Test("Messages name the option")
    func messages() {
        #expect(message(["--queue-depth", "10"]).contains("--queue-depth applies to the closed loop only: add --closed-loop"))
        #expect(message(["--closed-loop", "--queue-depth", "0"]).contains("--queue-depth must be between 1 and 100000, got 0"))
        #expect(message(["--closed-loop", "--sweep", "load"]).contains("--sweep is not available with tune"))
        #expect(message(["--closed-loop", "--retry-budget", "2"]).contains("--retry-budget must be a ratio from 0 to 1"))
    }

    @Test("Closed-loop defaults: training seed 1, the closed-loop grid, two axis rounds of 8 per pass")
    func defaults() throws {
        let plan = try TuneCommand.parse(["--closed-loop"]).plan()
        #expect(plan.trainingSeeds == [1])
        #expect(plan.grid == StaticBreakerGrid.closedLoop)
        #expect(plan.refinementRounds == 2)
        #expect(plan.configurationsPerPass == 8)
        let closedLoop = try #require(plan.closedLoop)
        #expect(closedLoop.seeds == [1])
        #expect(closedLoop.backend == .realistic)
        #expect(closedLoop.clients == .standard)
        // The open loop keeps its own defaults.
        let open = try TuneCommand.parse([]).plan()
        #expect(open.closedLoop == nil && open.trainingSeeds == [1, 2, 3] && open.refinementRounds == 1 && open.configurationsPerPass == 64)
    }

    @Test("The printed bench command carries the closed-loop options and evaluates the same configuration")
    func benchCommand() throws {
        let command = try TuneCommand.parse(["--closed-loop", "--model", "original", "--retry", "none", "--queue-depth", "25",
                                             "--training-seeds", "1,2", "--evaluation-seeds", "3"])
        let plan = try command.plan()
        #expect(plan.closedLoop?.backend.queueDepthPerReplica == 25)
        #expect(plan.closedLoop?.clients == .original)
        let best = try StaticWindowBreaker.Configuration(spec: "static(threshold=500,window=3s,open=5s,probes=20)")
        let text = command.benchCommand(for: best, plan: plan)
        #expect(text.hasPrefix("levee bench --closed-loop --model original --retry none --queue-depth 25 "))
        #expect(text.contains("--seeds 3 "))
        #expect(text.hasSuffix("--candidates 'levee,semian-adaptive,\(best.spec)'"))
        // Parsed back (the shell would strip the quotes), it is the same closed loop on the evaluation seeds.
        let arguments = text.split(separator: " ").dropFirst(2).map { $0.replacingOccurrences(of: "'", with: "") }
        let bench = try BenchCommand.parse(arguments)
        let (configuration, sweep) = try bench.closedLoopPlan()
        #expect(sweep == nil)
        #expect(configuration.backend == plan.closedLoop?.backend)
        #expect(configuration.clients == plan.closedLoop?.clients)
        #expect(configuration.seeds == plan.evaluationSeeds)
        #expect(configuration.candidates.map(\.identifier) == ["levee", "semian-adaptive", best.spec])
    }
}
