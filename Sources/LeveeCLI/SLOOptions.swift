import ArgumentParser
import Levee
import LeveeSimulation

/// `--slo` and `--slo-timeout-ms`, shared by the commands that simulate against an SLO.
struct SLOOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The SLO success rate, strictly between 0 and 1.", valueName: "rate"))
    var slo: Double = 0.90

    @Option(name: .customLong("slo-timeout-ms"), help: ArgumentHelp("The SLO timeout given to Levee.", valueName: "ms"))
    var sloTimeoutMilliseconds: Double = 1500

    /// The validated SLO.
    /// - Throws: `ValidationError` naming the bad option.
    func resolve() throws -> SLO {
        guard slo.isFinite, slo > 0, slo < 1 else {
            throw ValidationError("--slo must be strictly between 0 and 1, got \(slo)")
        }
        guard sloTimeoutMilliseconds.isFinite, sloTimeoutMilliseconds > 0 else {
            throw ValidationError("--slo-timeout-ms must be a positive number of milliseconds, got \(sloTimeoutMilliseconds)")
        }
        // The bound a scenario's timeouts have too (10⁹ s): simulated instants stay in Int64 nanoseconds.
        guard sloTimeoutMilliseconds < Phase.maximumTimeoutMilliseconds else {
            throw ValidationError(
                "--slo-timeout-ms must be below \(Phase.maximumTimeoutMilliseconds) ms (about 31.7 years), got \(sloTimeoutMilliseconds)")
        }
        do {
            // Rounded, not truncated: 8.2 × 10⁶ is 8,199,999.999… in binary floating point.
            return try SLO(successRate: slo, timeout: .nanoseconds(Int64((sloTimeoutMilliseconds * 1e6).rounded())))
        } catch {
            throw ValidationError("invalid SLO: \(error)")
        }
    }
}
