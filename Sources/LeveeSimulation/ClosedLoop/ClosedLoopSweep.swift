import Levee

/// The original's closed-loop sweeps, each row a full closed-loop run on the same seeds.
public enum ClosedLoopSweep: String, Sendable, Hashable, Codable, CaseIterable {
    /// RPM × {1, 0.5, 2} and error rate × {1, 0.2, 3}, the original's seven variations.
    case load
    /// SLO success rate 0.99, 0.95, 0.90, 0.80, 0.70.
    case slo
    /// Per-replica queue depth 10, 25, 50, 70, 100.
    case queueDepth = "queue-depth"

    /// One row of a sweep: its label and the configuration it runs.
    public struct Variation: Sendable {
        public var label: String
        public var configuration: ClosedLoopConfiguration
    }

    /// The rows of this sweep around `base` (its other settings are kept).
    public func variations(of base: ClosedLoopConfiguration) throws(ClosedLoopError) -> [Variation] {
        switch self {
        case .load:
            let scales: [(String, Double, Double)] = [
                ("baseline (1.0, 1.0)", 1, 1), ("half-RPM (0.5, 1.0)", 0.5, 1), ("double-RPM (2.0, 1.0)", 2, 1),
                ("low-err (1.0, 0.2)", 1, 0.2), ("high-err (1.0, 3.0)", 1, 3),
                ("low-RPM-high-err (0.5, 3.0)", 0.5, 3), ("high-RPM-low-err (2.0, 0.2)", 2, 0.2),
            ]
            return scales.map { label, load, errors in
                var configuration = base
                configuration.loadScale = load
                configuration.errorScale = errors
                return Variation(label: label, configuration: configuration)
            }
        case .slo:
            var rows: [Variation] = []
            for rate in [0.99, 0.95, 0.90, 0.80, 0.70] {
                var configuration = base
                do {
                    configuration.slo = try SLO(successRate: rate, timeout: .nanoseconds(base.slo.timeoutNanoseconds))
                } catch {
                    throw .invalidScale("SLO \(rate): \(error)")
                }
                rows.append(Variation(label: "SLO \(rate)", configuration: configuration))
            }
            return rows
        case .queueDepth:
            return [10, 25, 50, 70, 100].map { depth in
                var configuration = base
                configuration.backend.queueDepthPerReplica = depth
                return Variation(label: "queue depth \(depth)", configuration: configuration)
            }
        }
    }

    /// Runs every row (each row's runs spread over the configured threads).
    /// - Throws: ``ClosedLoopError/sweepNeedsLeveeAndBaseline`` unless Levee and another
    ///   candidate are configured.
    public func run(_ base: ClosedLoopConfiguration, report: ((Double) -> Void)? = nil) throws(ClosedLoopError) -> ClosedLoopSweepResult {
        let levee = CandidateDescriptor.levee.identifier
        guard base.candidates.contains(where: { $0.identifier == levee }),
              base.candidates.contains(where: { $0.identifier != levee }) else { throw .sweepNeedsLeveeAndBaseline }
        let rows = try variations(of: base)
        var results: [ClosedLoopSweepResult.Row] = []
        for (index, row) in rows.enumerated() {
            let result = try ClosedLoopBenchmark.run(row.configuration) { fraction in
                report?((Double(index) + fraction) / Double(rows.count))
            }
            results.append(ClosedLoopSweepResult.Row(label: row.label, result: result))
        }
        return ClosedLoopSweepResult(sweep: self, rows: results)
    }
}

/// A sweep's rows, each a full result, with Levee's lead over the best other candidate.
public struct ClosedLoopSweepResult: Sendable, Hashable, Codable {
    public struct Row: Sendable, Hashable, Codable {
        public var label: String
        public var result: ClosedLoopResult

        /// Levee's aggregate in this row.
        public var levee: ClosedLoopAggregate? { result.aggregate(for: CandidateDescriptor.levee.identifier) }
        /// The best other candidate by mean Delta (the one Levee's lead is paired against).
        public var bestBaseline: ClosedLoopAggregate? { levee?.comparedWith.flatMap(result.aggregate(for:)) }
    }

    public var sweep: ClosedLoopSweep
    public var rows: [Row]
}
