import ArgumentParser
import Foundation
import Levee
import LeveeSimulation

/// `levee tune`: the best static breaker in hindsight, by grid search on training seeds.
struct TuneCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tune",
        abstract: "Grid-search a static breaker's parameters on training seeds (the best static breaker in hindsight).",
        discussion: """
            Scores every configuration of a static breaker (threshold failures within window open \
            it; it stays open for open, then admits probes calls at a time and closes after probes \
            successes) by its mean TotalPenalty on the training seeds of the open-loop benchmark, \
            then refines around the best with the log-scale midpoints to its neighbours. Prints \
            the ranking and the 'levee bench' command that evaluates the winner on other seeds: \
            judge it only on seeds it was not tuned on. Durations take ms, s (default) or m.
            """)

    @OptionGroup var scenarioOptions: ScenarioOptions

    @Option(help: ArgumentHelp("The SLO success rate, strictly between 0 and 1.", valueName: "rate"))
    var slo: Double = 0.90

    @Option(name: .customLong("slo-timeout-ms"), help: ArgumentHelp("The SLO timeout (scoring uses only the rate).", valueName: "ms"))
    var sloTimeoutMilliseconds: Double = 1500

    @Option(name: .customLong("training-seeds"), help: ArgumentHelp(
        "Seeds to tune on, as for 'bench --seeds' (a count starts at \(OpenLoopConfiguration.originalSeed), the evaluation seeds: give a list).",
        valueName: "s1,s2,..."))
    var trainingSeeds: String = "1,2,3"

    @Option(name: .customLong("evaluation-seeds"), help: ArgumentHelp(
        "Seeds for the printed 'levee bench' command, as for 'bench --seeds'; must not overlap the training seeds.",
        valueName: "count|s1,s2,..."))
    var evaluationSeeds: String = "5"

    @Option(help: ArgumentHelp("Thresholds to try (failures within the window).", valueName: "n1,n2,..."))
    var thresholds: String?

    @Option(help: ArgumentHelp("Windows to try.", valueName: "d1,d2,..."))
    var windows: String?

    @Option(help: ArgumentHelp("Open durations to try.", valueName: "d1,d2,..."))
    var opens: String?

    @Option(help: ArgumentHelp("Probe counts to try (probes in flight while half-open, and successes to close).", valueName: "n1,n2,..."))
    var probes: String?

    @Option(help: ArgumentHelp("Refinement rounds around the best configuration (0 to 4).", valueName: "n"))
    var refine: Int = 1

    @Option(help: ArgumentHelp("Configurations scored per stream pass (1 to 1024; each holds about 1.2 MB per 28 simulated hours).", valueName: "n"))
    var perPass: Int = 64

    @Option(help: ArgumentHelp("Configurations to list.", valueName: "n"))
    var top: Int = 10

    @Option(help: ArgumentHelp("Write the best configuration as JSON to this file.", valueName: "path"))
    var output: String?

    @Flag(help: "Print the whole ranking as JSON instead of the table.")
    var json = false

    @Option(help: ArgumentHelp("Worker threads (default: the cores available).", valueName: "n"))
    var threads: Int?

    @Flag(help: "Print no progress lines.")
    var quiet = false

    struct Plan {
        var scenario: Scenario
        var slo: SLO
        var trainingSeeds: [UInt64]
        var evaluationSeeds: [UInt64]
        var grid: StaticBreakerGrid
        var generator: GeneratorMode
        var threads: Int
    }

    mutating func validate() throws {
        _ = try plan()
    }

    /// Validates the options and resolves them.
    /// - Throws: `ValidationError` naming the bad option.
    func plan() throws -> Plan {
        guard slo.isFinite, slo > 0, slo < 1 else {
            throw ValidationError("--slo must be strictly between 0 and 1, got \(slo)")
        }
        guard sloTimeoutMilliseconds.isFinite, sloTimeoutMilliseconds > 0 else {
            throw ValidationError("--slo-timeout-ms must be a positive number of milliseconds, got \(sloTimeoutMilliseconds)")
        }
        let sloValue: SLO
        do {
            sloValue = try SLO(successRate: slo, timeout: .nanoseconds(Int64(sloTimeoutMilliseconds * 1e6)))
        } catch {
            throw ValidationError("invalid SLO: \(error)")
        }
        let training: [UInt64]
        let evaluation: [UInt64]
        do {
            training = try SeedSelection.parse(trainingSeeds)
        } catch {
            throw ValidationError("--training-seeds: \(error)")
        }
        do {
            evaluation = try SeedSelection.parse(evaluationSeeds)
        } catch {
            throw ValidationError("--evaluation-seeds: \(error)")
        }
        let shared = evaluation.filter(training.contains)
        guard shared.isEmpty else {
            throw ValidationError(
                "--evaluation-seeds must not overlap --training-seeds (shared: \(shared.map(String.init).joined(separator: ", "))): a configuration is only judged on seeds it was not tuned on")
        }
        guard (0...4).contains(refine) else { throw ValidationError("--refine must be from 0 to 4, got \(refine)") }
        guard (1...1024).contains(perPass) else { throw ValidationError("--per-pass must be from 1 to 1024, got \(perPass)") }
        guard top >= 1 else { throw ValidationError("--top must be at least 1, got \(top)") }
        if let threads, threads < 1 {
            throw ValidationError("--threads must be at least 1, got \(threads)")
        }
        let standard = StaticBreakerGrid.standard
        let grid: StaticBreakerGrid
        do {
            grid = try StaticBreakerGrid(
                thresholds: try Self.counts(thresholds, option: "--thresholds") ?? standard.thresholds,
                windowsNanoseconds: try Self.durations(windows, option: "--windows") ?? standard.windowsNanoseconds,
                opensNanoseconds: try Self.durations(opens, option: "--opens") ?? standard.opensNanoseconds,
                probes: try Self.counts(probes, option: "--probes") ?? standard.probes)
        } catch let error as CandidateSpecError {
            let option: String
            switch error {
            case .invalidValue(let parameter, _):
                option = ["threshold": "--thresholds", "window": "--windows", "open": "--opens", "probes": "--probes"][parameter] ?? "--grid"
            default:
                option = "--grid"
            }
            throw ValidationError("\(option): \(error)")
        }
        let scenario = try scenarioOptions.loadScenario()
        do {
            _ = try OpenLoopBenchmark.slotCapacity(for: scenario)
        } catch {
            throw ValidationError("--scenario: \(error)")
        }
        return Plan(scenario: scenario, slo: sloValue, trainingSeeds: training, evaluationSeeds: evaluation, grid: grid,
                    generator: scenarioOptions.generator.mode, threads: threads ?? OpenLoopBenchmark.availableCores)
    }

    static func items(_ text: String, option: String) throws -> [Substring] {
        let items = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard !items.isEmpty else { throw ValidationError("\(option): no value in '\(text)'") }
        return items.map { Substring($0) }
    }

    static func counts(_ text: String?, option: String) throws -> [Int]? {
        guard let text else { return nil }
        return try items(text, option: option).map { item in
            guard let value = Int(item) else { throw ValidationError("\(option): '\(item)' is not a whole number") }
            return value
        }
    }

    static func durations(_ text: String?, option: String) throws -> [Int64]? {
        guard let text else { return nil }
        return try items(text, option: option).map { item in
            guard let value = DurationText.parse(item) else {
                throw ValidationError("\(option): '\(item)' is not a positive duration such as 250ms, 10s or 2m")
            }
            return value
        }
    }

    /// The `levee bench` command that evaluates `configuration` on the evaluation seeds.
    func benchCommand(for configuration: StaticWindowBreaker.Configuration, plan: Plan) -> String {
        let seedsText = plan.evaluationSeeds == OpenLoopConfiguration.consecutiveSeeds(count: plan.evaluationSeeds.count)
            ? "\(plan.evaluationSeeds.count)" : plan.evaluationSeeds.map(String.init).joined(separator: ",")
        return "levee bench --scenario \(scenarioOptions.scenario) --generator \(scenarioOptions.generator.rawValue) "
            + "--slo \(slo) --slo-timeout-ms \(sloTimeoutMilliseconds) --seeds \(seedsText) "
            + "--candidates 'levee,static-peak,\(configuration.spec)'"
    }

    static func render(_ result: TuningResult, top: Int) -> String {
        let rows = result.ranked.prefix(top).enumerated().map { index, entry in
            [String(index + 1), String(format: "%.1f", entry.score), entry.stage == 0 ? "coarse" : "refine \(entry.stage)",
             entry.configuration.spec]
        }
        let header = ["Rank", result.scoreName, "Stage", "Configuration"]
        let widths = header.indices.map { column in ([header] + rows).map { $0[column].count }.max() ?? 0 }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { column, cell in
                column == cells.count - 1 ? cell : cell.padding(toLength: widths[column], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }
        return ([line(header)] + rows.map(line)).joined(separator: "\n")
    }

    func run() throws {
        let plan = try plan()
        let objective = OpenLoopTuningObjective(scenario: plan.scenario, slo: plan.slo, generator: plan.generator,
                                                parallelism: plan.threads)
        let tuner = StaticBreakerTuner(grid: plan.grid, refinementRounds: refine, configurationsPerPass: perPass)
        let clock = ContinuousClock()
        let started = clock.now
        let result = try tuner.tune(objective: objective, seeds: plan.trainingSeeds) { scored, planned in
            guard !quiet else { return }
            let elapsed = started.duration(to: clock.now).components
            let line = "scored \(scored) of \(planned) configurations planned so far, \(elapsed.seconds) s\n"
            FileHandle.standardError.write(Data(line.utf8))
        }
        let best = result.best

        if let output {
            let record = TunedConfiguration(
                spec: best.configuration.spec, configuration: best.configuration, score: best.score,
                scoreName: result.scoreName, scenario: plan.scenario.name, successRate: slo,
                sloTimeoutMilliseconds: sloTimeoutMilliseconds, generator: scenarioOptions.generator.rawValue,
                trainingSeeds: plan.trainingSeeds, configurationsScored: result.ranked.count, wallSeconds: result.wallSeconds)
            try Self.encoder.encode(record).write(to: URL(fileURLWithPath: output))
        }
        if json {
            print(String(decoding: try Self.encoder.encode(result), as: UTF8.self))
            return
        }
        let grid = plan.grid
        print("""
            Best static breaker in hindsight: \(plan.scenario.name), SLO \(slo) / \(sloTimeoutMilliseconds) ms, \
            generator \(scenarioOptions.generator.rawValue), training seeds \(plan.trainingSeeds.map(String.init).joined(separator: ", "))
            Grid: thresholds \(grid.thresholds.map(String.init).joined(separator: ",")); \
            windows \(grid.windowsNanoseconds.map(DurationText.format).joined(separator: ",")); \
            opens \(grid.opensNanoseconds.map(DurationText.format).joined(separator: ",")); \
            probes \(grid.probes.map(String.init).joined(separator: ",")) (\(grid.count) configurations), \(refine) refinement round(s)
            Scored \(result.ranked.count) configurations in \(String(format: "%.1f", result.wallSeconds)) s wall time.

            """)
        print(Self.render(result, top: top))
        print("""

            Best: \(best.configuration.spec)
            Evaluate it on seeds it was not tuned on:
              \(benchCommand(for: best.configuration, plan: plan))
            """)
        if let output { print("Best configuration written to \(output)") }
    }

    static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return encoder
    }

    /// What `--output` writes.
    struct TunedConfiguration: Codable {
        var spec: String
        var configuration: StaticWindowBreaker.Configuration
        var score: Double
        var scoreName: String
        var scenario: String
        var successRate: Double
        var sloTimeoutMilliseconds: Double
        var generator: String
        var trainingSeeds: [UInt64]
        var configurationsScored: Int
        var wallSeconds: Double
    }
}
