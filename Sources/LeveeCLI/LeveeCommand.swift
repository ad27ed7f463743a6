import ArgumentParser
import Foundation

@main
struct LeveeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "levee",
        abstract: "Levee: benchmarks and tools for the SLO-only circuit breaker.",
        subcommands: [BenchCommand.self, TuneCommand.self, LoadgenCommand.self, EquationCommand.self])

    /// The exit status for usage errors: bad flags, bad values, unreadable or malformed scenarios.
    static let usageErrorStatus: Int32 = 2

    /// Runs the command line, with usage errors exiting with status 2 (ArgumentParser's default
    /// is 64) so scripts can tell a bad invocation from a failed run.
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            let status = exitStatus(for: error)
            if status == usageErrorStatus {
                FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
                Foundation.exit(status)
            }
            exit(withError: error)
        }
    }

    /// The process exit status `main()` uses for `error`.
    static func exitStatus(for error: any Error) -> Int32 {
        if error is UsageError { return usageErrorStatus }
        let code = exitCode(for: error)
        return code == .validationFailure ? usageErrorStatus : code.rawValue
    }
}

/// A problem with the invocation found while running (for example a scenario file that cannot
/// be parsed): reported like a validation error, with exit status 2.
struct UsageError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}
