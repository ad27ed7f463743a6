import ArgumentParser
import Foundation
import LeveeSimulation

/// `--scenario` and `--generator`, shared by `bench` and `loadgen`.
struct ScenarioOptions: ParsableArguments {
    @Option(help: ArgumentHelp(
        "The scenario: 'cyber-monday' (built in), 'random:SEED' (a seeded synthetic scenario of 1.7 to 6 hours, see Scenario.random(seed:)) or the path of a CSV file.",
        discussion: "A CSV file needs a header row with duration_s, rpm, error_rate, p50_ms, p99_ms and timeout_ms; label is optional and other columns are ignored.",
        valueName: "cyber-monday|random:SEED|PATH.csv"))
    var scenario: String = "cyber-monday"

    @Option(help: ArgumentHelp(
        "The request generator: 'go' reproduces the Go original's stream bit for bit; 'fast' is statistically equivalent.",
        valueName: "go|fast"))
    var generator: GeneratorChoice = .go

    mutating func validate() throws {
        _ = try loadScenario()
    }

    /// The scenario named by `--scenario`.
    /// - Throws: `ValidationError` naming the file, line and column of the problem.
    func loadScenario() throws -> Scenario {
        let name = scenario.trimmingCharacters(in: .whitespaces)
        switch name.lowercased() {
        case "cyber-monday", "cybermonday", "cyber_monday":
            return Scenario.cyberMonday
        case let random where random.hasPrefix("random:"):
            let seed = random.dropFirst("random:".count)
            guard let value = UInt64(seed) else {
                throw ValidationError("invalid scenario '\(name)': the seed after 'random:' must be a whole number from 0 to \(UInt64.max), found '\(seed)'")
            }
            do {
                return try Scenario.random(seed: value)
            } catch {
                throw ValidationError("invalid scenario '\(name)': \(error)")
            }
        default:
            do {
                return try Scenario.load(path: name)
            } catch {
                throw ValidationError("invalid scenario '\(name)': \(error)")
            }
        }
    }
}

/// The generator modes as a command-line value.
enum GeneratorChoice: String, ExpressibleByArgument, CaseIterable {
    case go, fast

    var mode: GeneratorMode {
        switch self {
        case .go: .goCompatible
        case .fast: .fast
        }
    }
}
