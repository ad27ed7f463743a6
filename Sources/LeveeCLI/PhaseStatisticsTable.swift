import LeveeSimulation

/// `levee loadgen --stats`: each phase's generated requests against its targets.
enum PhaseStatisticsTable {
    static func render(_ phases: [PhaseSummary], scenario: String, seed: UInt64, generator: String) -> String {
        let headings = ["Phase", "Seconds", "RPM", "Requests", "Expected", "Dev %",
                        "Errors %", "Target %", "z", "p50 ms", "Target", "p99 ms", "Target", "Mean ms", "Target"]
        var rows: [[String]] = []
        var requests: Int64 = 0, expected = 0.0, errors: Int64 = 0
        var flagged = 0
        for phase in phases {
            requests += phase.requests
            expected += phase.expectedRequests
            errors += phase.errors
            let z = phase.errorRateStandardError > 0
                ? (phase.observedErrorRate - phase.targetErrorRate) / phase.errorRateStandardError : 0
            if abs(z) > 3 { flagged += 1 }
            rows.append([
                "\(phase.phaseIndex) \(phase.label.prefix(28))", decimal(phase.durationSeconds, 0), String(phase.rpm),
                SummaryTable.grouped(Int(phase.requests)), SummaryTable.grouped(Int(phase.expectedRequests.rounded())),
                signed(100 * phase.requestCountDeviation, 2),
                decimal(100 * phase.observedErrorRate, 3), decimal(100 * phase.targetErrorRate, 3), signed(z, 1),
                optional(phase.observedP50Milliseconds), decimal(phase.targetP50Milliseconds, 1),
                optional(phase.observedP99Milliseconds), decimal(phase.targetP99Milliseconds, 1),
                optional(phase.observedMeanMilliseconds), decimal(phase.targetMeanMilliseconds, 1),
            ])
        }
        var lines = ["Scenario \(scenario), seed \(seed), generator \(generator): \(SummaryTable.grouped(Int(requests))) requests "
            + "(expected \(SummaryTable.grouped(Int(expected.rounded())))), \(SummaryTable.grouped(Int(errors))) errors", ""]
        lines += SummaryTable.layout(headings: headings, rows: rows)
        lines.append("")
        lines.append("z: (observed − target error rate) ÷ binomial standard error; \(flagged) phase(s) beyond ±3. "
            + "Percentiles from a log-bucketed histogram (within 0.4 %).")
        return lines.joined(separator: "\n")
    }

    private static func decimal(_ value: Double, _ decimals: Int) -> String { SummaryTable.format(value, decimals: decimals) }
    private static func signed(_ value: Double, _ decimals: Int) -> String {
        (value >= 0 ? "+" : "") + SummaryTable.format(value, decimals: decimals)
    }
    private static func optional(_ value: Double?) -> String { value.map { decimal($0, 1) } ?? "-" }
}
