public import Foundation

/// The closed-loop results as text: the original's table, the SLO measures, the backend's
/// counters, means with confidence intervals and paired differences, and sweep tables.
public enum ClosedLoopTable {
    /// The original's columns (plus crashes, which it printed in its second table).
    public static let originalColumns: [ClosedLoopColumn] = [
        .blocked, .allowed, .successes, .failures, .successScore, .failureScore, .delta, .maxConcurrency, .crashes,
    ]
    /// Measures that map to SLOs, the original could not print.
    public static let sloColumns: [ClosedLoopColumn] = [
        .goodput, .goodputRatio, .sloAttainment, .latencyP50, .latencyP99, .timeouts, .retries, .wastedWork,
        .blockedWouldSucceed, .probes, .probesDuringOutage, .downtime,
    ]

    public static func render(_ result: ClosedLoopResult) -> String {
        var lines = [header(result)]
        for seed in result.seedResults {
            lines.append("")
            let offered = seed.candidates.first?.offered ?? 0
            lines.append("Seed \(seed.seed): \(SummaryTable.grouped(offered)) exogenous requests")
            let sorted = seed.candidates.sorted { $0.delta > $1.delta }
            lines.append(contentsOf: table(sorted, columns: originalColumns))
            lines.append("")
            lines.append(contentsOf: table(sorted, columns: sloColumns))
            lines.append("")
            lines.append(contentsOf: backendTable(sorted))
        }
        if result.seedResults.count > 1 {
            lines.append("")
            lines.append("Mean over \(result.seedResults.count) seeds ± half-width of the 95 % confidence interval (Student t, \(result.seedResults.count - 1) df)")
            lines.append(contentsOf: meanTable(result, columns: originalColumns, withComparison: true))
            lines.append("")
            lines.append(contentsOf: meanTable(result, columns: sloColumns, withComparison: false))
        }
        lines.append("")
        lines.append(contentsOf: verdict(result))
        lines.append("")
        lines.append(contentsOf: notes)
        lines.append("")
        lines.append("Wall time: \(SummaryTable.format(result.wallSeconds, decimals: 2)) s for \(result.seedResults.count) seed(s) × "
            + "\(result.aggregates.count) candidate(s), \(result.parallelism) thread(s)")
        return lines.joined(separator: "\n")
    }

    static func header(_ result: ClosedLoopResult) -> String {
        "Closed-loop benchmark: scenario \(result.scenario) (\(result.phaseCount) phases, "
            + "\(SummaryTable.format(result.scenarioSeconds / 3600, decimals: 1)) h), SLO \(result.successRate) within "
            + "\(SummaryTable.format(result.sloTimeoutMilliseconds, decimals: 0)) ms; backend model \(result.model), queue depth "
            + "\(result.queueDepthPerReplica) per replica; clients: \(result.clients); \(result.instances) instance(s) per candidate"
            + (result.loadScale != 1 || result.errorScale != 1
                ? "; RPM × \(result.loadScale), error rate × \(result.errorScale)" : "")
    }

    static func cell(_ column: ClosedLoopColumn, _ value: Double) -> String {
        switch column {
        case .successScore, .failureScore, .delta, .wastedWork, .downtime, .latencyP50, .latencyP99, .goodputRatio, .sloAttainment:
            SummaryTable.format(value, decimals: column.decimals)
        default:
            SummaryTable.grouped(Int(value.rounded()))
        }
    }

    static func table(_ candidates: [ClosedLoopCandidateResult], columns: [ClosedLoopColumn]) -> [String] {
        let rows = candidates.map { candidate in [candidate.name] + columns.map { cell($0, $0.value(in: candidate)) } }
        return SummaryTable.layout(headings: ["Candidate"] + columns.map(\.heading), rows: rows)
    }

    static func backendTable(_ candidates: [ClosedLoopCandidateResult]) -> [String] {
        let headings = ["Backend", "Requests", "Successes", "Failures", "Shed", "QueueDrops", "Overload", "Dependency",
                        "Baseline", "CrashFail", "Crashes", "PeakReplicas", "Replica-s", "Busy slot-s"]
        let rows = candidates.map { candidate -> [String] in
            let b = candidate.backend
            return [candidate.name] + [b.requests, b.successes, b.failures, b.shed, b.queueDrops, b.overloadErrors,
                                       b.dependencyErrors, b.baselineErrors, b.crashFailures, b.crashes, b.peakReplicas]
                .map(SummaryTable.grouped)
                + [SummaryTable.grouped(Int(b.replicaSeconds.rounded())), SummaryTable.grouped(Int(b.busySlotSeconds.rounded()))]
        }
        return SummaryTable.layout(headings: headings, rows: rows)
    }

    static func estimateCell(_ column: ClosedLoopColumn, _ estimate: Estimate) -> String {
        let mean = cell(column, estimate.mean)
        guard let halfWidth = estimate.halfWidth else { return mean }
        return "\(mean) ± \(cell(column, halfWidth))"
    }

    static func meanTable(_ result: ClosedLoopResult, columns: [ClosedLoopColumn], withComparison: Bool) -> [String] {
        let sorted = result.aggregates.sorted { ($0[.delta]?.mean ?? -.infinity) > ($1[.delta]?.mean ?? -.infinity) }
        var headings = ["Candidate"] + columns.map(\.heading)
        if withComparison { headings += ["Delta − best other (paired)", "vs"] }
        let rows = sorted.map { aggregate -> [String] in
            var row = [aggregate.name] + columns.map { column in aggregate[column].map { estimateCell(column, $0) } ?? "-" }
            if withComparison {
                row.append(aggregate.pairedDeltaDifference.map { estimateCell(.delta, $0) } ?? "-")
                row.append(aggregate.comparedWith.flatMap { result.aggregate(for: $0)?.name } ?? "-")
            }
            return row
        }
        return SummaryTable.layout(headings: headings, rows: rows)
    }

    /// Levee against the best other candidate: the goal is ≥ 1.2× its mean Delta with
    /// zero crashes.
    static func verdict(_ result: ClosedLoopResult) -> [String] {
        guard let levee = result.aggregate(for: CandidateDescriptor.levee.identifier),
              let bestIdentifier = levee.comparedWith, let best = result.aggregate(for: bestIdentifier),
              let leveeDelta = levee[.delta]?.mean, let bestDelta = best[.delta]?.mean else { return [] }
        let ratio = bestDelta > 0 ? SummaryTable.format(leveeDelta / bestDelta, decimals: 2) + "×" : "n/a (best other Delta ≤ 0)"
        var line = "Levee vs best other (\(best.name)): mean Delta \(SummaryTable.format(leveeDelta, decimals: 2)) vs "
            + "\(SummaryTable.format(bestDelta, decimals: 2)) (ratio \(ratio))"
        if let lead = levee.pairedDeltaDifference {
            line += ", paired lead \(estimateCell(.delta, lead))"
            if let interval = lead.interval { line += interval.lowerBound > 0 ? " (significant)" : interval.upperBound < 0 ? " (significantly behind)" : " (not significant)" }
        }
        let crashes = levee[.crashes]?.mean ?? 0
        line += "; Levee crashes per seed \(SummaryTable.format(crashes, decimals: 1))"
        return [line]
    }

    static let notes: [String] = [
        "Delta: the original's score on attempts, 200 ms epochs by the instant the client sees the outcome:",
        "  (√Σ5s² − √Σ5f²) × Allowed ÷ (Allowed + Blocked); a timeout counts as a failure at the deadline.",
        "Goodput: exogenous requests that succeeded within the SLO timeout of their arrival (retries included);",
        "  SLOmin%: minutes (by arrival) whose goodput ÷ offered reached the SLO success rate. p50/p99: client-visible",
        "  latency of admitted attempts. Wasted s: backend slot-seconds spent on attempts that could not answer in time",
        "  (answers after the client's deadline, and the backend's own queue timeouts, whose workers kept serving).",
        "  BlockedGood: rejections that would have succeeded (backend up, no overload errors, the attempt's own health",
        "  draw passes; an estimate that ignores the queueing the attempt would have added). Probes: admissions by an",
        "  instance reporting open; OutageProbes: those while the backend was down. See docs/benchmarks.md.",
    ]

    /// A sweep: one row per variation with Levee's mean Delta, the best other candidate's, and
    /// Levee's paired lead.
    public static func render(_ sweep: ClosedLoopSweepResult) -> String {
        var lines: [String] = []
        if let first = sweep.rows.first { lines.append(header(first.result)) }
        lines.append("Sweep: \(sweep.sweep.rawValue) (the settings above are the first row's; each row changes the swept one), "
            + "\(sweep.rows.first?.result.seeds.count ?? 0) seed(s) per row")
        let headings = ["Variation", "Levee", "Best other", "Its Delta", "Levee lead (paired)", "Ratio", "Crashes Levee / other"]
        let rows = sweep.rows.map { row -> [String] in
            guard let levee = row.levee, let best = row.bestBaseline,
                  let leveeDelta = levee[.delta], let bestDelta = best[.delta] else { return [row.label, "-", "-", "-", "-", "-", "-"] }
            let lead = levee.pairedDeltaDifference.map { estimateCell(.delta, $0) } ?? "-"
            let ratio = bestDelta.mean > 0 ? SummaryTable.format(leveeDelta.mean / bestDelta.mean, decimals: 2) : "-"
            let crashes = "\(SummaryTable.format(levee[.crashes]?.mean ?? 0, decimals: 1)) / \(SummaryTable.format(best[.crashes]?.mean ?? 0, decimals: 1))"
            return [row.label, estimateCell(.delta, leveeDelta), best.name, estimateCell(.delta, bestDelta), lead, ratio, crashes]
        }
        lines.append(contentsOf: SummaryTable.layout(headings: headings, rows: rows))
        let wall = sweep.rows.reduce(0) { $0 + $1.result.wallSeconds }
        lines.append("")
        lines.append("Wall time: \(SummaryTable.format(wall, decimals: 2)) s for \(sweep.rows.count) rows")
        return lines.joined(separator: "\n")
    }
}

extension ClosedLoopColumn {
    var decimals: Int {
        switch self {
        case .successScore, .failureScore, .delta, .goodputRatio, .sloAttainment, .latencyP50, .latencyP99: 2
        case .wastedWork, .downtime: 0
        default: 0
        }
    }
}

extension ClosedLoopResult {
    /// Pretty-printed JSON with sorted keys.
    public func jsonData() throws -> Data { try ResultJSON.encode(self) }
    /// Writes ``jsonData()`` to `path`, creating or replacing the file.
    public func writeJSON(to path: String) throws { try ResultJSON.write(self, to: path) }
}

extension ClosedLoopSweepResult {
    /// Pretty-printed JSON with sorted keys.
    public func jsonData() throws -> Data { try ResultJSON.encode(self) }
    /// Writes ``jsonData()`` to `path`, creating or replacing the file.
    public func writeJSON(to path: String) throws { try ResultJSON.write(self, to: path) }
}
