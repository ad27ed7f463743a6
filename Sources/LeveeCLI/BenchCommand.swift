import ArgumentParser
import Foundation
import Levee
import LeveeSimulation

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Run the open-loop benchmark (every candidate against the Prescient oracle) or, with --closed-loop, the closed loop.",
        discussion: """
            Every candidate sees the same seeded request stream on simulated time and is scored as \
            the Go original scores it (BadTraffic, LostBusiness, TotalPenalty, transition classes), \
            plus missed incidents, throttling episodes and per-request counts. With several seeds, \
            the table of each seed is followed by the means with 95 % confidence intervals.

            With --closed-loop, each candidate drives its own simulated backend (autoscaler, worker \
            slots, queue, overload and crashes) with the scenario's RPM as exogenous demand, through \
            clients that retry; scored with the original's epoch Delta and SLO measures (goodput, SLO \
            attainment per minute, latency, wasted work, crashes). Defaults: --model realistic, \
            --retry backoff (3 attempts, 100 ms base, 1 s cap, full jitter), --retry-budget 0.1 over 10 s, \
            --instances 1, and every built-in candidate but block-all. '--model original --retry none' \
            reproduces the Go original's model.
            """)

    @OptionGroup var scenarioOptions: ScenarioOptions

    @OptionGroup var sloOptions: SLOOptions
    var slo: Double { sloOptions.slo }
    var sloTimeoutMilliseconds: Double { sloOptions.sloTimeoutMilliseconds }

    @Option(help: ArgumentHelp(
        "A number of seeds (1 to \(SeedSelection.maximumCount), starting at \(OpenLoopConfiguration.originalSeed), the original's seed), or a comma-separated list of seeds.",
        discussion: "A single number above \(SeedSelection.maximumCount) is one seed; write 'N,' for one small seed N.",
        valueName: "count|s1,s2,..."))
    var seeds: String = "1"

    @Option(help: ArgumentHelp(
        "Comma-separated candidates, or 'all': \(CandidateDescriptor.builtIn.map(\.identifier).joined(separator: ", ")) (default: all; with --closed-loop, all but block-all).",
        discussion: "A static breaker of any configuration is named by its spec, \(StaticWindowBreaker.Configuration.specSyntax), e.g. static(threshold=5,window=10s,open=30s,probes=3); 'levee tune' prints the best one for a scenario.",
        valueName: "list"))
    var candidates: String?

    @Option(help: ArgumentHelp("Write the results as JSON to this file.", valueName: "path"))
    var json: String?

    @Option(help: ArgumentHelp("Write an HTML report with charts (index.html) into this directory.", valueName: "dir"))
    var report: String?

    @Option(help: ArgumentHelp("Worker threads (default: the cores available).", valueName: "n"))
    var threads: Int?

    @Flag(help: "Never show progress, even on a terminal.")
    var quiet = false

    @OptionGroup(title: "Closed loop") var closedLoop: ClosedLoopOptions

    /// Everything the options describe, validated.
    struct Plan {
        var scenario: Scenario
        var slo: SLO
        var seeds: [UInt64]
        var candidates: [CandidateDescriptor]
        var generator: GeneratorMode
        var threads: Int
    }

    mutating func validate() throws {
        _ = try plan()
        if closedLoop.enabled {
            _ = try closedLoopPlan()
        } else {
            try closedLoop.requireClosedLoopForItsOptions()
        }
        // Last, since checking `--report` creates its directory.
        if let json { try OutputPath.checkFile(json, option: "--json") }
        if let report { try OutputPath.checkDirectory(report, option: "--report") }
    }

    /// Validates the options and resolves them.
    /// - Throws: `ValidationError` with a message naming the bad option.
    func plan() throws -> Plan {
        let sloValue = try sloOptions.resolve()
        let seedList: [UInt64]
        do {
            seedList = try SeedSelection.parse(seeds)
        } catch {
            throw ValidationError("--seeds: \(error)")
        }
        let candidateList: [CandidateDescriptor]
        do {
            candidateList = try candidates.map(CandidateDescriptor.parseList)
                ?? (closedLoop.enabled ? CandidateDescriptor.closedLoopDefaults : CandidateDescriptor.builtIn)
        } catch {
            throw ValidationError("--candidates: \(error)")
        }
        if let threads, threads < 1 {
            throw ValidationError("--threads must be at least 1, got \(threads)")
        }
        let scenario = try scenarioOptions.loadScenario()
        do {
            _ = try OpenLoopBenchmark.slotCapacity(for: scenario)
        } catch {
            throw ValidationError("--scenario: \(error)")
        }
        return Plan(scenario: scenario, slo: sloValue, seeds: seedList, candidates: candidateList,
                    generator: scenarioOptions.generator.mode, threads: threads ?? OpenLoopBenchmark.availableCores)
    }

    func run() throws {
        if closedLoop.enabled {
            try runClosedLoop()
            return
        }
        let plan = try plan()
        let configuration = OpenLoopConfiguration(
            scenario: plan.scenario, slo: plan.slo, seeds: plan.seeds, candidates: plan.candidates,
            generator: plan.generator, seriesSeed: report == nil ? nil : plan.seeds.first, parallelism: plan.threads)

        let progress = TerminalProgress(enabled: !quiet && TerminalProgress.isTerminal(fileDescriptor: 2))
        progress.start(label: "Simulating \(plan.scenario.name), \(plan.seeds.count) seed(s) × \(plan.candidates.count) candidate(s)")
        let result: BenchmarkResult
        do {
            result = try OpenLoopBenchmark.run(configuration) { fraction in progress.update(fraction) }
        } catch {
            progress.finish()
            throw error
        }
        progress.finish()

        print(SummaryTable.render(result))

        try OutputPath.writeJSON(to: json, result.writeJSON(to:))
        if let report {
            guard let series = result.series else { throw UsageError(message: "no series recorded for the report") }
            let page = HTMLReport(result: result, series: series, scenario: plan.scenario, slo: plan.slo)
            let path = try OutputPath.writing(report, option: "--report") { try page.write(toDirectory: report) }
            print("Report written to \(path)")
        }
    }
}
