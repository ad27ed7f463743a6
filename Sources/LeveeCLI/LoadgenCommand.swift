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

    @Option(help: ArgumentHelp(
        "With --throughput, drain the stream this many times and also print the best and the median CPU time.",
        discussion: "The CPU time of one run varies with what else the machine does and, on some virtual machines, with the speed the host gives it; compare the best of several runs, taken together.",
        valueName: "n"))
    var runs: Int?

    mutating func validate() throws {
        if let limit, limit < 0 { throw ValidationError("--limit must not be negative, got \(limit)") }
        if throughput && stats { throw ValidationError("--throughput and --stats cannot be combined") }
        if throughput && limit != nil { throw ValidationError("--limit cannot be combined with --throughput, which drains the whole stream") }
        if eventOrder != nil && !throughput { throw ValidationError("--event-order applies only with --throughput") }
        if runs != nil && !throughput { throw ValidationError("--runs applies only with --throughput") }
        if let runs, !(1...1_000).contains(runs) { throw ValidationError("--runs must be between 1 and 1000, got \(runs)") }
    }

    func run() throws {
        let scenario = try scenarioOptions.loadScenario()
        if throughput {
            measureThroughput(of: scenario)
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
    /// Drains the stream `--runs` times, printing each run's CPU time and, for several, the best
    /// and the median.
    private func measureThroughput(of scenario: Scenario) {
        let runs = self.runs ?? 1
        var cpuTimes: [Double] = []
        var events: Int64 = 0
        for _ in 0..<runs {
            let cpuBefore = Self.processCPUSeconds()
            let measurement = EventStream.measureThroughput(
                scenario: scenario, seed: seed, mode: scenarioOptions.generator.mode,
                simultaneousOrder: (eventOrder ?? .endsFirst).order)
            let cpuSeconds = Self.processCPUSeconds() - cpuBefore
            cpuTimes.append(cpuSeconds)
            events = measurement.events
            print("\(scenario.name), generator \(scenarioOptions.generator.rawValue), \((eventOrder ?? .endsFirst).rawValue) order, seed \(seed): \(measurement)")
            // On a shared machine the wall clock also counts time spent waiting for a core.
            print("CPU time \(Self.format(cpuSeconds, events: events))")
        }
        guard runs > 1 else { return }
        let sorted = cpuTimes.sorted()
        print("best of \(runs): \(Self.format(sorted[0], events: events)); median: \(Self.format(sorted[runs / 2], events: events))")
    }

    private static func format(_ cpuSeconds: Double, events: Int64) -> String {
        let perCPUSecond = cpuSeconds > 0 ? Double(events) / cpuSeconds / 1e6 : 0
        return "\(String(format: "%.2f", cpuSeconds)) s: \(String(format: "%.2f", perCPUSecond)) M events per CPU second"
    }

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
