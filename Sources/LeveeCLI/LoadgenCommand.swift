import ArgumentParser
import Foundation
import LeveeSimulation

struct LoadgenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "loadgen",
        abstract: "Write a scenario's generated requests as CSV, or summarise them against the phase targets.",
        discussion: "The CSV has a header and one line per request: start_ns,duration_ns,outcome (success or failure), in start order, times in nanoseconds from the simulation start.")

    @OptionGroup var scenarioOptions: ScenarioOptions

    @Option(help: ArgumentHelp("The generator's seed.", valueName: "n"))
    var seed: UInt64 = OpenLoopConfiguration.originalSeed

    @Option(help: ArgumentHelp("Stop after this many requests.", valueName: "n"))
    var limit: Int?

    @Flag(help: "Print the per-phase summary against the targets instead of the CSV.")
    var stats = false

    mutating func validate() throws {
        if let limit, limit < 0 { throw ValidationError("--limit must not be negative, got \(limit)") }
    }

    func run() throws {
        let scenario = try scenarioOptions.loadScenario()
        var generator = LoadGenerator(scenario: scenario, seed: seed, mode: scenarioOptions.generator.mode)
        let limit = self.limit ?? Int.max
        if stats {
            var statistics = LoadStatistics(scenario: scenario)
            var count = 0
            while count < limit, let request = generator.next() {
                statistics.record(request)
                count += 1
            }
            print(PhaseStatisticsTable.render(statistics.summary(), scenario: scenario.name, seed: seed,
                                              generator: scenarioOptions.generator.rawValue))
            return
        }
        var writer = CSVWriter()
        writer.append("start_ns,duration_ns,outcome\n")
        var count = 0
        while count < limit, let request = generator.next() {
            writer.appendInteger(request.start)
            writer.append(",")
            writer.appendInteger(request.duration)
            writer.append(request.isSuccess ? ",success\n" : ",failure\n")
            count += 1
        }
        writer.flush()
    }
}
