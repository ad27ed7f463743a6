import Levee

/// The closed-loop benchmark: each candidate, on each seed, drives its own backend with the
/// same exogenous demand and the same clients; what it admits changes the backend's load,
/// and what the backend does changes what clients retry.
///
/// Candidates and seeds are independent runs: they are spread over the worker threads, each
/// run on one thread, and results come back in configuration order.
public enum ClosedLoopBenchmark {
    /// Runs every candidate on every seed.
    ///
    /// - Parameter progress: Counts exogenous arrivals processed; poll it from another thread.
    /// - Parameter report: Called on the calling thread about five times a second with the
    ///   fraction done.
    public static func run(
        _ configuration: ClosedLoopConfiguration, progress: BenchmarkProgress? = nil, report: ((Double) -> Void)? = nil
    ) throws(ClosedLoopError) -> ClosedLoopResult {
        let scenario = try configuration.validated()
        let progress = progress ?? BenchmarkProgress(expectedEvents: 0)
        let runs = configuration.seeds.count * configuration.candidates.count
        progress.setExpected(Int(scenario.expectedRequests) * runs)

        struct Item: Sendable {
            var seed: UInt64
            var descriptor: CandidateDescriptor
            /// Position in seed-major, configuration order.
            var position: Int
        }
        let ordered = configuration.seeds.flatMap { seed in configuration.candidates.map { (seed, $0) } }
            .enumerated().map { Item(seed: $0.element.0, descriptor: $0.element.1, position: $0.offset) }
        // The costliest runs start first, so that no thread is left with a long run at the end.
        let items = ordered.sorted { ($0.descriptor.relativeCost, -$0.position) > ($1.descriptor.relativeCost, -$1.position) }
        let sink = configuration.seriesSeed.map { _ in ClosedLoopSeriesSink() }
        let base = ClosedLoopRunContext(
            scenario: scenario, slo: configuration.slo, seed: 0, backend: configuration.backend,
            clients: configuration.clients, instances: configuration.instances, identifier: "", displayName: "",
            progress: progress)

        let clock = ContinuousClock()
        let started = clock.now
        let outputs: [Result<ClosedLoopCandidateResult, ClosedLoopError>]
        do {
            // The work never throws: failures travel as values, in our own error type.
            outputs = try ParallelRunner.run(items: items, threads: configuration.parallelism, progress: progress, report: report) {
                (item: Item) -> Result<ClosedLoopCandidateResult, ClosedLoopError> in
                var context = base
                context.seed = item.seed
                context.identifier = item.descriptor.identifier
                context.displayName = item.descriptor.displayName
                context.seriesSink = item.seed == configuration.seriesSeed ? sink : nil
                do throws(ClosedLoopError) {
                    return .success(try item.descriptor.runClosedLoop(context))
                } catch {
                    return .failure(error)
                }
            }
        } catch {
            preconditionFailure("closed-loop work items do not throw: \(error)")
        }
        let elapsed = started.duration(to: clock.now).components
        let wallSeconds = Double(elapsed.seconds) + Double(elapsed.attoseconds) / 1e18

        var byPosition = Array(repeating: Result<ClosedLoopCandidateResult, ClosedLoopError>.failure(.noCandidates), count: items.count)
        for (item, output) in zip(items, outputs) { byPosition[item.position] = output }
        var seedResults: [ClosedLoopSeedResult] = []
        var position = 0
        for seed in configuration.seeds {
            var candidates: [ClosedLoopCandidateResult] = []
            for _ in configuration.candidates {
                candidates.append(try byPosition[position].get())
                position += 1
            }
            seedResults.append(ClosedLoopSeedResult(seed: seed, candidates: candidates))
        }
        // Named by the model switches: a changed constant (a queue depth, say) is shown on its own.
        let model: String = switch configuration.backend.model {
        case .original: "original"
        case .realistic: "realistic"
        default: "custom"
        }
        return ClosedLoopResult(
            scenario: scenario.name, phaseCount: scenario.phases.count,
            scenarioSeconds: Double(scenario.totalDurationNanoseconds) / 1e9,
            successRate: configuration.slo.successRate,
            sloTimeoutMilliseconds: Double(configuration.slo.timeoutNanoseconds) / 1e6,
            model: model, clients: configuration.clients.description, instances: configuration.instances,
            queueDepthPerReplica: configuration.backend.queueDepthPerReplica,
            loadScale: configuration.loadScale, errorScale: configuration.errorScale,
            seeds: configuration.seeds, seedResults: seedResults,
            aggregates: ClosedLoopResult.aggregate(seedResults),
            wallSeconds: wallSeconds, parallelism: min(configuration.parallelism, items.count),
            series: sink.map { sink in
                configuration.seriesSeed.map { seed in
                    ClosedLoopSeedSeries(seed: seed, candidates: configuration.candidates.compactMap { sink.series(for: $0.identifier) })
                }
            } ?? nil)
    }
}
