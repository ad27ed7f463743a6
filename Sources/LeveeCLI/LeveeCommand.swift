import ArgumentParser

@main
struct LeveeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "levee",
        abstract: "Levee: benchmarks and tools for the SLO-only circuit breaker.")
}
