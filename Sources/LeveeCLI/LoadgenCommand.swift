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

    @Flag(help: ArgumentHelp(
        "Drain the whole event stream (every start and end, in time order) as fast as possible and print the events per second instead of the CSV.",
        discussion: "Use a release build. The figure covers the generator and the in-flight queue, with the least work per event that still reads it."))
    var throughput = false

    @Option(help: ArgumentHelp(
        "With --throughput, the order of simultaneous events: 'ends-first', or 'go' (the Go original's exact order, as `bench --generator go` uses).",
        valueName: "ends-first|go"))
    var eventOrder: EventOrderChoice?

    mutating func validate() throws {
        if let limit, limit < 0 { throw ValidationError("--limit must not be negative, got \(limit)") }
        if throughput && stats { throw ValidationError("--throughput and --stats cannot be combined") }
        if throughput && limit != nil { throw ValidationError("--limit cannot be combined with --throughput, which drains the whole stream") }
        if eventOrder != nil && !throughput { throw ValidationError("--event-order applies only with --throughput") }
    }

    func run() throws {
        let scenario = try scenarioOptions.loadScenario()
        if throughput {
            let cpuBefore = Self.processCPUSeconds()
            let measurement = EventStream.measureThroughput(
                scenario: scenario, seed: seed, mode: scenarioOptions.generator.mode,
                simultaneousOrder: (eventOrder ?? .endsFirst).order)
            let cpuSeconds = Self.processCPUSeconds() - cpuBefore
            print("\(scenario.name), generator \(scenarioOptions.generator.rawValue), \((eventOrder ?? .endsFirst).rawValue) order, seed \(seed): \(measurement)")
            // On a shared machine the wall clock also counts time spent waiting for a core.
            let perCPUSecond = cpuSeconds > 0 ? Double(measurement.events) / cpuSeconds / 1e6 : 0
            print("CPU time \(String(format: "%.2f", cpuSeconds)) s: \(String(format: "%.2f", perCPUSecond)) M events per CPU second")
            return
        }
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

extension LoadgenCommand {
    /// CPU seconds this process has used so far.
    static func processCPUSeconds() -> Double {
        var time = timespec()
        guard clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &time) == 0 else { return 0 }
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }
}

/// The stream's orders of simultaneous events as a command-line value.
enum EventOrderChoice: String, ExpressibleByArgument, CaseIterable {
    case endsFirst = "ends-first"
    case go

    var order: EventStream.SimultaneousOrder {
        switch self {
        case .endsFirst: .endsFirst
        case .go: .goLoadgen
        }
    }
}
