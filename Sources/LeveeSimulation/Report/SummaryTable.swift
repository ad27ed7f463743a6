/// The comparative summary as text: the original's columns first, then the new ones.
public enum SummaryTable {
    /// Columns the original printed, in its order.
    public static let originalColumns: [ResultColumn] = [
        .blocked, .allowed, .flapping, .falseAlarms, .lateDetections, .badTraffic, .lostBusiness, .totalPenalty,
    ]
    /// Columns the original could not print.
    public static let newColumns: [ResultColumn] = [
        .goodDetections, .prematureRecoveries, .slowRecoveries, .missedIncidents, .throttles, .goodBlocked, .badAllowed,
    ]

    /// The full text: header, one table per seed, the mean table when there are several seeds,
    /// notes, and the wall time.
    public static func render(_ result: BenchmarkResult) -> String {
        var lines: [String] = []
        let hours = result.scenarioSeconds / 3600
        lines.append("Open-loop benchmark: scenario \(result.scenario) (\(result.phaseCount) phases, \(format(hours, decimals: 1)) h, "
            + "\(result.incidents.count) incident(s) at SLO \(result.successRate)), SLO timeout \(format(result.sloTimeoutMilliseconds, decimals: 0)) ms, "
            + "generator \(result.generator)")
        for seedResult in result.seedResults {
            lines.append("")
            lines.append("Seed \(seedResult.seed): \(grouped(seedResult.requestCount)) requests, \(grouped(seedResult.eventCount)) events")
            lines.append(contentsOf: seedTable(seedResult))
        }
        if result.seedResults.count > 1 {
            lines.append("")
            let degrees = result.seedResults.count - 1
            lines.append("Mean over \(result.seedResults.count) seeds ± half-width of the 95 % confidence interval (Student t, \(degrees) df)")
            lines.append(contentsOf: meanTable(result))
        }
        lines.append("")
        lines.append(contentsOf: notes(result))
        lines.append("")
        let events = result.seedResults.first.map { grouped($0.eventCount) } ?? "0"
        lines.append("Wall time: \(format(result.wallSeconds, decimals: 2)) s for \(result.seedResults.count) seed(s) × "
            + "\(result.aggregates.count) candidate(s) (\(events) stream events per seed), \(result.parallelism) thread(s)")
        if let busiest = result.threadCPUSeconds.first {
            let total = result.threadCPUSeconds.reduce(0, +)
            lines.append("CPU time: \(format(total, decimals: 2)) s over \(result.threadCPUSeconds.count) worker thread(s), the busiest \(format(busiest, decimals: 2)) s"
                // With one round of work items the wall time should be close to the busiest thread.
                + (result.seedResults.count <= result.parallelism && result.wallSeconds > busiest * 1.25
                    ? " (other processes were competing for the cores)" : ""))
        }
        return lines.joined(separator: "\n")
    }

    /// One seed's table, candidates sorted by ascending TotalPenalty after the Prescient rows.
    public static func seedTable(_ seedResult: SeedResult) -> [String] {
        let columns = originalColumns + newColumns
        var rows: [[String]] = []
        let total = seedResult.requestCount
        let real = seedResult.prescient.requestsDuringIncidents
        let estimate = seedResult.prescient.timeProportionalEstimate
        let incidentCount = seedResult.candidates.first?.incidents.count ?? 0
        rows.append(["Prescient", grouped(real), grouped(total - real), "0", "0", "0", "0", "0", "0",
                     grouped(incidentCount), "0", "0", "0", "0", "0", "0"])
        rows.append(["Prescient (est)", grouped(estimate), grouped(total - estimate)] + Array(repeating: "-", count: columns.count - 2))
        for candidate in seedResult.candidates.sorted(by: { $0.totalPenalty < $1.totalPenalty }) {
            rows.append([candidate.name] + columns.map { cell(column: $0, value: $0.value(in: candidate)) })
        }
        return layout(headings: ["Candidate"] + columns.map(\.heading), rows: rows)
    }

    /// Means and confidence half-widths over seeds, sorted by mean TotalPenalty.
    public static func meanTable(_ result: BenchmarkResult) -> [String] {
        let columns = originalColumns + newColumns
        var rows: [[String]] = []
        let realCounts = result.seedResults.map { Double($0.prescient.requestsDuringIncidents) }
        let estimates = result.seedResults.map { Double($0.prescient.timeProportionalEstimate) }
        let totals = result.seedResults.map { Double($0.requestCount) }
        let realAllowed = zip(totals, realCounts).map { $0 - $1 }
        let estimateAllowed = zip(totals, estimates).map { $0 - $1 }
        let incidentCount = result.incidents.count
        rows.append(["Prescient", estimateCell(Estimate(realCounts), decimals: 0), estimateCell(Estimate(realAllowed), decimals: 0)]
            + columns.dropFirst(2).map { $0 == .goodDetections ? SummaryTable.grouped(incidentCount) : "0" })
        rows.append(["Prescient (est)", estimateCell(Estimate(estimates), decimals: 0), estimateCell(Estimate(estimateAllowed), decimals: 0)]
            + Array(repeating: "-", count: columns.count - 2))
        let sorted = result.aggregates.sorted { ($0[.totalPenalty]?.mean ?? .infinity) < ($1[.totalPenalty]?.mean ?? .infinity) }
        for aggregate in sorted {
            rows.append([aggregate.name] + columns.map { column in
                guard let estimate = aggregate[column] else { return "-" }
                return estimateCell(estimate, decimals: column.isTransitionCount ? 1 : 0)
            })
        }
        return layout(headings: ["Candidate"] + columns.map(\.heading), rows: rows)
    }

    static func notes(_ result: BenchmarkResult) -> [String] {
        let incidentSeconds = result.incidents.reduce(0.0) { $0 + Double($1.durationNanoseconds) / 1e9 }
        return [
            "Prescient: requests that actually arrived while the oracle was OPEN (\(result.incidents.count) incident(s), "
                + "\(format(incidentSeconds, decimals: 0)) s of \(format(result.scenarioSeconds, decimals: 0)) s).",
            "Prescient (est): the original's printed figure, a time-proportional estimate: Σ total requests × incident time ÷ run time.",
            "BadTraffic = √Σ bad_t² (admitted while the oracle is OPEN), LostBusiness = √Σ lost_t² (blocked while it is CLOSED),",
            "  per second of simulated time by start; TotalPenalty = their sum; lower is better.",
            "Flap/FalseAlarm/LateDetect/GoodDetect/Premature/SlowRecov: the original's transition classes (THROTTLED is its own",
            "  state: only moves into OPEN are openings, moves into CLOSED are closings). Missed: incidents during which the",
            "  candidate stayed CLOSED throughout. Throttles: entries into THROTTLED. GoodBlocked: blocked requests the oracle",
            "  would have admitted that would have succeeded; BadAllowed: admitted requests the oracle would have blocked that failed.",
        ]
    }

    private static func cell(column: ResultColumn, value: Double) -> String {
        column.isCount ? grouped(Int(value)) : grouped(Int(value.rounded()))
    }

    private static func estimateCell(_ estimate: Estimate, decimals: Int) -> String {
        let mean = decimals == 0 ? grouped(Int(estimate.mean.rounded())) : format(estimate.mean, decimals: decimals)
        guard let halfWidth = estimate.halfWidth else { return mean }
        let width = decimals == 0 ? grouped(Int(halfWidth.rounded())) : format(halfWidth, decimals: decimals)
        return "\(mean) ± \(width)"
    }

    /// Left-aligns the first column, right-aligns the others, separated by " | ".
    public static func layout(headings: [String], rows: [[String]]) -> [String] {
        var widths = headings.map(\.count)
        for row in rows {
            for (index, value) in row.enumerated() where index < widths.count {
                widths[index] = max(widths[index], value.count)
            }
        }
        func line(_ values: [String]) -> String {
            values.enumerated().map { index, value in
                let padding = String(repeating: " ", count: max(0, widths[index] - value.count))
                return index == 0 ? value + padding : padding + value
            }.joined(separator: " | ")
        }
        let header = line(headings)
        return [header, String(repeating: "-", count: header.count)] + rows.map(line)
    }

    /// An integer with thousands separators: 56,525,160.
    public static func grouped(_ value: Int) -> String {
        let digits = String(value.magnitude)
        var result = ""
        for (index, digit) in digits.enumerated() {
            if index > 0 && (digits.count - index) % 3 == 0 { result.append(",") }
            result.append(digit)
        }
        return value < 0 ? "-" + result : result
    }

    /// A fixed-point decimal without Foundation.
    public static func format(_ value: Double, decimals: Int) -> String {
        guard value.isFinite else { return "\(value)" }
        var scale = 1.0
        for _ in 0..<decimals { scale *= 10 }
        let scaled = (abs(value) * scale).rounded()
        let integer = Int(scaled / scale)
        let fraction = Int(scaled - Double(integer) * scale)
        let sign = value < 0 && scaled > 0 ? "-" : ""
        guard decimals > 0 else { return sign + String(integer) }
        let fractionText = String(fraction)
        return sign + String(integer) + "." + String(repeating: "0", count: decimals - fractionText.count) + fractionText
    }
}

extension ResultColumn {
    /// Whether the column counts transitions or incidents (small numbers worth a decimal in means).
    var isTransitionCount: Bool {
        switch self {
        case .flapping, .falseAlarms, .lateDetections, .goodDetections, .prematureRecoveries, .slowRecoveries,
             .missedIncidents, .throttles: true
        default: false
        }
    }

    /// Whether the column counts things (as opposed to a penalty).
    var isCount: Bool {
        switch self {
        case .badTraffic, .lostBusiness, .totalPenalty: false
        default: true
        }
    }
}
