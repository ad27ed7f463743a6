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

            With --closed-loop, each configuration drives its own backend in the closed-loop \
            benchmark (as 'bench --closed-loop', with the same model and client options) and is \
            ranked by its mean Delta, highest first, with the backend crashes it caused beside it. \
            A closed-loop run costs seconds of CPU per configuration and seed, so the defaults are \
            smaller: training seed 1, a 48-configuration grid (thresholds 20,100,500,2500; windows \
            500ms,3s; opens 1s,5s,25s; probes 2,20) and two refinement rounds that move one \
            parameter at a time (up to 8 configurations each).
            """)

    @OptionGroup var scenarioOptions: ScenarioOptions

    @OptionGroup(title: "Closed loop") var closedLoop: ClosedLoopOptions

    @OptionGroup var sloOptions: SLOOptions
    var slo: Double { sloOptions.slo }
    var sloTimeoutMilliseconds: Double { sloOptions.sloTimeoutMilliseconds }

    @Option(name: .customLong("training-seeds"), help: ArgumentHelp(
        "Seeds to tune on, as for 'bench --seeds' (a count starts at \(OpenLoopConfiguration.originalSeed), the evaluation seeds: give a list; default 1,2,3, or 1 with --closed-loop).",
        valueName: "s1,s2,..."))
    var trainingSeeds: String?

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

    @Option(help: ArgumentHelp("Refinement rounds around the best configuration (0 to 4; default 1, or 2 with --closed-loop).", valueName: "n"))
    var refine: Int?

    @Option(help: ArgumentHelp(
        "Configurations scored per pass (1 to 1024; default 64, or 8 with --closed-loop). An open-loop pass holds about 1.2 MB per configuration per 28 simulated hours; a closed-loop pass is one 'bench --closed-loop' run.",
        valueName: "n"))
    var perPass: Int?

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
        var refinementRounds: Int
        var configurationsPerPass: Int
        /// The closed-loop benchmark to tune on (its seeds are the training seeds), or nil for the open loop.
        var closedLoop: ClosedLoopConfiguration?
    }

    mutating func validate() throws {
        _ = try plan()
        if let output { try OutputPath.checkFile(output, option: "--output") }
    }

    /// Validates the options and resolves them.
    /// - Throws: `ValidationError` naming the bad option.
    func plan() throws -> Plan {
        let sloValue = try sloOptions.resolve()
        let training: [UInt64]
        let evaluation: [UInt64]
        do {
            training = try SeedSelection.parse(trainingSeeds ?? (closedLoop.enabled ? "1," : "1,2,3"))
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
        let refine = self.refine ?? (closedLoop.enabled ? 2 : 1)
        guard (0...4).contains(refine) else { throw ValidationError("--refine must be from 0 to 4, got \(refine)") }
        let perPass = self.perPass ?? (closedLoop.enabled ? 8 : 64)
        guard (1...1024).contains(perPass) else { throw ValidationError("--per-pass must be from 1 to 1024, got \(perPass)") }
        guard top >= 1 else { throw ValidationError("--top must be at least 1, got \(top)") }
        if let threads, threads < 1 {
            throw ValidationError("--threads must be at least 1, got \(threads)")
        }
        if closedLoop.enabled {
            if closedLoop.sweep != nil {
                throw ValidationError("--sweep is not available with tune: a sweep runs every row, tune one configuration")
            }
        } else {
            try closedLoop.requireClosedLoopForItsOptions()
        }
        let standard = closedLoop.enabled ? StaticBreakerGrid.closedLoop : StaticBreakerGrid.standard
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
        let threadCount = threads ?? OpenLoopBenchmark.availableCores
        let closedLoopConfiguration = closedLoop.enabled
            ? try closedLoop.configuration(scenario: scenario, slo: sloValue, seeds: training,
                                           candidates: [.staticWindow(grid.configurations[0])], threads: threadCount)
            : nil
        return Plan(scenario: scenario, slo: sloValue, trainingSeeds: training, evaluationSeeds: evaluation, grid: grid,
                    generator: scenarioOptions.generator.mode, threads: threadCount, refinementRounds: refine,
                    configurationsPerPass: perPass, closedLoop: closedLoopConfiguration)
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
        if plan.closedLoop != nil {
            // The closed loop has no request generator; its strongest baseline so far is Semian's adaptive breaker.
            return "levee bench \(closedLoop.arguments.joined(separator: " ")) --scenario \(scenarioOptions.scenario) "
                + "--slo \(slo) --slo-timeout-ms \(sloTimeoutMilliseconds) --seeds \(seedsText) "
                + "--candidates 'levee,semian-adaptive,\(configuration.spec)'"
        }
        return "levee bench --scenario \(scenarioOptions.scenario) --generator \(scenarioOptions.generator.rawValue) "
            + "--slo \(slo) --slo-timeout-ms \(sloTimeoutMilliseconds) --seeds \(seedsText) "
            + "--candidates 'levee,static-peak,\(configuration.spec)'"
    }

    static func render(_ result: TuningResult, top: Int) -> String {
        let showsCrashes = result.ranked.contains { $0.crashes != nil }
        let rows = result.ranked.prefix(top).enumerated().map { index, entry in
            [String(index + 1), String(format: "%.1f", entry.score)]
                + (showsCrashes ? [entry.crashes.map(String.init) ?? "-"] : [])
                + [entry.stage == 0 ? "coarse" : "refine \(entry.stage)", entry.configuration.spec]
        }
        let header = ["Rank", result.scoreName] + (showsCrashes ? ["Crashes"] : []) + ["Stage", "Configuration"]
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
        let objective: any TuningObjective = plan.closedLoop.map(ClosedLoopObjective.init(base:))
            ?? OpenLoopTuningObjective(scenario: plan.scenario, slo: plan.slo, generator: plan.generator, parallelism: plan.threads)
        // The closed loop cannot afford the full product of a refined grid (80 runs per seed).
        let tuner = StaticBreakerTuner(grid: plan.grid, refinementRounds: plan.refinementRounds,
                                       configurationsPerPass: plan.configurationsPerPass,
                                       refinement: plan.closedLoop == nil ? .product : .axes)
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
                spec: best.configuration.spec, configuration: best.configuration, score: best.score, crashes: best.crashes,
                scoreName: result.scoreName, closedLoop: plan.closedLoop == nil ? nil : closedLoop.arguments, scenario: plan.scenario.name, successRate: slo,
                sloTimeoutMilliseconds: sloTimeoutMilliseconds, generator: scenarioOptions.generator.rawValue,
                trainingSeeds: plan.trainingSeeds, configurationsScored: result.ranked.count, wallSeconds: result.wallSeconds)
            let data = try Self.encoder.encode(record)
            try OutputPath.writing(output, option: "--output") { try data.write(to: URL(fileURLWithPath: output), options: .atomic) }
        }
        if json {
            print(String(decoding: try Self.encoder.encode(result), as: UTF8.self))
            return
        }
        let grid = plan.grid
        let closedLoopOptions = closedLoop.arguments.dropFirst().joined(separator: " ")
        let benchmark = plan.closedLoop == nil ? "generator \(scenarioOptions.generator.rawValue)"
            : "closed loop" + (closedLoopOptions.isEmpty ? " (defaults)" : " (\(closedLoopOptions))")
        print("""
            Best static breaker in hindsight: \(plan.scenario.name), SLO \(slo) / \(sloTimeoutMilliseconds) ms, \
            \(benchmark), training seeds \(plan.trainingSeeds.map(String.init).joined(separator: ", "))
            Grid: thresholds \(grid.thresholds.map(String.init).joined(separator: ",")); \
            windows \(grid.windowsNanoseconds.map(DurationText.format).joined(separator: ",")); \
            opens \(grid.opensNanoseconds.map(DurationText.format).joined(separator: ",")); \
            probes \(grid.probes.map(String.init).joined(separator: ",")) (\(grid.count) configurations), \(plan.refinementRounds) refinement round(s)\(plan.closedLoop == nil ? "" : " one parameter at a time")
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
        /// Backend crashes over the training seeds (closed loop only).
        var crashes: Int?
        var scoreName: String
        /// The closed-loop options tuned under, nil for the open loop.
        var closedLoop: [String]?
        var scenario: String
        var successRate: Double
        var sloTimeoutMilliseconds: Double
        var generator: String
        var trainingSeeds: [UInt64]
        var configurationsScored: Int
        var wallSeconds: Double
    }
}
