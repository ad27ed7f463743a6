public import Levee

/// Why a benchmark could not be configured or run.
public enum OpenLoopError: Error, Sendable, Hashable, CustomStringConvertible {
    case noCandidates
    case unknownCandidate(String, known: [String])
    /// A `static(…)` candidate spec that cannot be read.
    case invalidCandidateSpec(String, reason: String)
    case noSeeds
    /// More requests were in flight than the fixed per-request tables hold.
    case inFlightOverrun(capacity: Int, requestID: Int64, time: Int64)
    /// A completion arrived for a request that was not in flight.
    case unmatchedCompletion(requestID: Int64, time: Int64)
    case invalidEvent(requestID: Int64, time: Int64)
    /// The scenario needs larger per-request tables than the harness allows.
    case scenarioTooLarge(requiredSlots: Double)

    public var description: String {
        switch self {
        case .noCandidates:
            "no candidate given"
        case .unknownCandidate(let name, let known):
            "unknown candidate '\(name)'; known candidates: \(known.joined(separator: ", ")), or all, or \(StaticWindowBreaker.Configuration.specSyntax)"
        case .invalidCandidateSpec(let spec, let reason):
            "invalid candidate spec '\(spec)': \(reason)"
        case .noSeeds:
            "no seed given: at least one seed is needed"
        case .inFlightOverrun(let capacity, let requestID, let time):
            "request \(requestID) at \(time) ns started while the request \(capacity) places before it was still in flight: more than \(capacity) requests in flight"
        case .unmatchedCompletion(let requestID, let time):
            "completion of request \(requestID) at \(time) ns without a start"
        case .invalidEvent(let requestID, let time):
            "request \(requestID) starts at a negative instant (\(time) ns)"
        case .scenarioTooLarge(let slots):
            "the scenario may keep about \(Int(slots)) requests in flight, more than the harness supports (\(OpenLoopBenchmark.maximumSlotCapacity / 2))"
        }
    }
}

/// What to run: one scenario, one SLO, some seeds, some candidates.
public struct OpenLoopConfiguration: Sendable {
    /// The phases to play.
    public var scenario: Scenario
    /// The SLO the oracle judges phases against (and Levee is configured with).
    public var slo: SLO
    /// One run per seed; every candidate sees the same stream within a seed.
    public var seeds: [UInt64]
    /// The candidates, in the order results are reported.
    public var candidates: [CandidateDescriptor]
    /// Go-compatible (bit for bit, including the order of simultaneous events) or fast.
    public var generator: GeneratorMode
    /// Keep the per-second series of this seed (for reports). `nil` keeps none.
    public var seriesSeed: UInt64?
    /// Worker threads; defaults to the number of active cores.
    public var parallelism: Int

    /// The seed of the original benchmark.
    public static let originalSeed: UInt64 = 20_241_225

    public init(scenario: Scenario, slo: SLO, seeds: [UInt64] = [originalSeed],
                candidates: [CandidateDescriptor] = CandidateDescriptor.builtIn,
                generator: GeneratorMode = .goCompatible, seriesSeed: UInt64? = nil,
                parallelism: Int = OpenLoopBenchmark.availableCores) {
        self.scenario = scenario
        self.slo = slo
        self.seeds = seeds
        self.candidates = candidates
        self.generator = generator
        self.seriesSeed = seriesSeed
        self.parallelism = max(1, parallelism)
    }

    /// The seeds `originalSeed, originalSeed + 1, …`: the first is the original's.
    public static func consecutiveSeeds(count: Int) -> [UInt64] {
        (0..<max(0, count)).map { originalSeed + UInt64($0) }
    }
}

/// The open-loop benchmark: every candidate faces the same seeded request stream, on simulated
/// time, and is scored against the Prescient oracle.
///
/// Each seed's stream is generated once and fed to every candidate in lockstep, chunk by chunk:
/// each candidate sees every event in global time order, in a loop specialised for its type.
/// Whole rounds of seeds (as many as cores) run side by side, one thread each. The seeds left
/// over, fewer than the cores, have their candidates split into groups balanced by cost: the
/// thread generating a stream runs one group, and one more thread per other group runs its
/// candidates over the same chunks (see ``ExecutionPlan``).
public enum OpenLoopBenchmark {
    /// Events per chunk: small enough to stay in cache while every lane of a group reads it.
    static let chunkSize = 4096
    /// The largest per-request table (slots); the in-flight bound it allows is half of it.
    public static let maximumSlotCapacity = 1 << 24

    /// Cores the process may use.
    public static var availableCores: Int { ProcessorCount.active }

    /// The per-request table size for `scenario`: a power of two at least twice the largest
    /// number of requests that can start within one timeout (requests never outlive their
    /// phase's timeout), and at least 1,024.
    public static func slotCapacity(for scenario: Scenario) throws(OpenLoopError) -> Int {
        var bound = 0.0
        for phase in scenario.phases {
            bound = max(bound, Double(phase.rpm) / 60 * phase.timeoutMilliseconds / 1000)
        }
        let needed = 2 * bound + 256
        guard needed.isFinite, needed <= Double(maximumSlotCapacity) else { throw .scenarioTooLarge(requiredSlots: bound) }
        var capacity = 1024
        while Double(capacity) < needed { capacity *= 2 }
        return capacity
    }

    /// Per-second buckets for `scenario`: its nominal length plus room for the arrival drift at
    /// phase switches (one inter-arrival gap per switch, generously bounded).
    public static func secondCount(for scenario: Scenario) -> Int {
        let nominal = (Double(scenario.totalDurationNanoseconds) / 1e9).rounded(.up)
        var slack = 60.0
        for phase in scenario.phases where phase.rpm > 0 {
            slack += min(600, 5 * 60 / Double(phase.rpm))
        }
        return Int(min(nominal + slack, 1e8))
    }

    /// Expected number of stream events of one seed (start and end of every request).
    public static func expectedEvents(for scenario: Scenario) -> Int {
        let requests = scenario.phases.reduce(0.0) { $0 + Double($1.rpm) / 60 * $1.durationSeconds }
        return Int(2 * requests)
    }

    /// Runs the configured benchmark.
    ///
    /// - Parameter progress: Updated as events are processed; poll it from another thread.
    /// - Parameter report: Called on the calling thread about five times a second while the
    ///   workers run, with the fraction done.
    public static func run(
        _ configuration: OpenLoopConfiguration, progress: BenchmarkProgress? = nil,
        report: ((Double) -> Void)? = nil
    ) throws(OpenLoopError) -> BenchmarkResult {
        guard !configuration.candidates.isEmpty else { throw .noCandidates }
        guard !configuration.seeds.isEmpty else { throw .noSeeds }
        let slotCapacity = try slotCapacity(for: configuration.scenario)
        let oracle = PrescientOracle(scenario: configuration.scenario, slo: configuration.slo)
        // Whole rounds of seeds run one per thread; the seeds left over (fewer than the cores)
        // then share the cores by splitting their candidates.
        let cores = configuration.parallelism
        let roundSeeds = configuration.seeds.count / cores * cores
        let batches = [Array(configuration.seeds.prefix(roundSeeds)), Array(configuration.seeds.dropFirst(roundSeeds))]
            .filter { !$0.isEmpty }
            .map { seeds in
                let plan = ExecutionPlan(seeds: seeds.count, candidates: configuration.candidates, parallelism: cores)
                let items = seeds.map { WorkItem(seed: $0, groups: plan.groups, keepSeries: $0 == configuration.seriesSeed) }
                return (plan: plan, items: items)
            }
        let progress = progress ?? BenchmarkProgress(expectedEvents: 0)
        progress.setExpected(expectedEvents(for: configuration.scenario) * configuration.seeds.count)
        let context = RunContext(
            scenario: configuration.scenario, oracle: oracle, slo: configuration.slo, generator: configuration.generator,
            slotCapacity: slotCapacity, secondCount: secondCount(for: configuration.scenario))

        let clock = ContinuousClock()
        let started = clock.now
        var outputs: [ItemOutput] = []
        for batch in batches {
            outputs += try ParallelRunner.run(items: batch.items, threads: batch.plan.concurrentItems, progress: progress,
                                              report: report) { (item: WorkItem) throws(OpenLoopError) -> ItemOutput in
                try runItem(item, context: context, progress: progress)
            }
        }
        let elapsed = started.duration(to: clock.now).components
        let wallSeconds = Double(elapsed.seconds) + Double(elapsed.attoseconds) / 1e18

        // Put the candidates back in configuration order.
        let order = Dictionary(uniqueKeysWithValues: configuration.candidates.enumerated().map { ($1.identifier, $0) })
        var seedResults: [SeedResult] = []
        var series: SeedSeries?
        for var output in outputs {
            output.result.candidates.sort { order[$0.identifier, default: 0] < order[$1.identifier, default: 0] }
            seedResults.append(output.result)
            if var seedSeries = output.series {
                seedSeries.candidates.sort { order[$0.identifier, default: 0] < order[$1.identifier, default: 0] }
                series = seedSeries
            }
        }
        var result = BenchmarkResult(
            scenario: configuration.scenario.name, phaseCount: configuration.scenario.phases.count,
            scenarioSeconds: Double(configuration.scenario.totalDurationNanoseconds) / 1e9,
            successRate: configuration.slo.successRate,
            sloTimeoutMilliseconds: Double(configuration.slo.timeoutNanoseconds) / 1e6,
            generator: configuration.generator.rawValue, seeds: configuration.seeds, incidents: oracle.incidents,
            seedResults: seedResults, aggregates: BenchmarkResult.aggregate(seedResults), wallSeconds: wallSeconds,
            parallelism: batches.map { $0.plan.concurrentItems * $0.plan.groups.count }.max() ?? 1, series: series)
        result.threadCPUSeconds = progress.threadCPUSeconds.sorted(by: >)
        return result
    }

    /// Runs candidates on a hand-made event sequence (tests, replays): events in time order,
    /// request IDs 1-based, every start before its end.
    public static func run<Events: Sequence>(
        events: Events, scenario: Scenario, slo: SLO, candidates: [CandidateDescriptor], slotCapacity: Int = 1024
    ) throws(OpenLoopError) -> (result: SeedResult, series: SeedSeries) where Events.Element == StreamEvent {
        guard !candidates.isEmpty else { throw .noCandidates }
        let oracle = PrescientOracle(scenario: scenario, slo: slo)
        let context = RunContext(scenario: scenario, oracle: oracle, slo: slo, generator: .fast,
                                 slotCapacity: slotCapacity, secondCount: secondCount(for: scenario))
        let output = try drive(source: events.makeIterator(), seed: 0, groups: [candidates], keepSeries: true,
                               context: context, progress: nil)
        return (output.result, output.series!)
    }

    // MARK: Work items

    /// One seed, with its candidates split into groups that run on their own threads.
    struct WorkItem: Sendable {
        var seed: UInt64
        var groups: [[CandidateDescriptor]]
        var keepSeries: Bool
    }

    struct ItemOutput: Sendable {
        var seed: UInt64
        var result: SeedResult
        var series: SeedSeries?
    }

    struct RunContext: Sendable {
        var scenario: Scenario
        var oracle: PrescientOracle
        var slo: SLO
        var generator: GeneratorMode
        var slotCapacity: Int
        var secondCount: Int
    }

    /// How to spread seeds and candidates over the cores.
    ///
    /// With at least as many seeds as cores, each seed runs every candidate on one thread, and
    /// seeds run side by side. With fewer seeds, each seed gets several threads: the first
    /// generates the stream and runs some candidates, the others run the rest on the same chunks.
    struct ExecutionPlan {
        /// Candidate groups of one seed; group 0 runs on the thread that generates the stream.
        var groups: [[CandidateDescriptor]]
        /// Seeds run at the same time.
        var concurrentItems: Int

        /// The generating thread's load, in the units of ``CandidateDescriptor/relativeCost``. Its
        /// instructions alone would say 12.7; it is set from thread CPU times, since the in-flight
        /// heap's cache misses make each of them slower than a lane's (about 1.25 times).
        static let generationCost = 16.0

        init(seeds: Int, candidates: [CandidateDescriptor], parallelism: Int) {
            // One thread may do nothing but generate the stream, hence up to one more than lanes.
            let lanes = candidates.count { $0.fixedDecision == nil }
            let threadsPerSeed = max(1, min(lanes + 1, parallelism / max(1, seeds)))
            groups = Self.split(candidates, threads: threadsPerSeed)
            concurrentItems = max(1, min(seeds, parallelism / groups.count))
        }

        /// Greedy balancing, costliest candidates first; thread 0 starts with the generation cost.
        /// Candidates without a lane (``FixedDecisionCandidate``) stay with thread 0, which has the feed.
        static func split(_ candidates: [CandidateDescriptor], threads: Int) -> [[CandidateDescriptor]] {
            guard threads > 1 else { return [candidates] }
            var groups = Array(repeating: [CandidateDescriptor](), count: threads)
            var loads = Array(repeating: 0.0, count: threads)
            loads[0] = generationCost
            groups[0] = candidates.filter { $0.fixedDecision != nil }
            for candidate in candidates.sorted(by: { $0.relativeCost > $1.relativeCost }) where candidate.fixedDecision == nil {
                let lightest = loads.indices.min { loads[$0] < loads[$1] }!
                groups[lightest].append(candidate)
                loads[lightest] += candidate.relativeCost
            }
            // A thread with nothing to run is useless; the generating thread always exists.
            return [groups[0]] + groups.dropFirst().filter { !$0.isEmpty }
        }
    }

    static func runItem(_ item: WorkItem, context: RunContext, progress: BenchmarkProgress?) throws(OpenLoopError) -> ItemOutput {
        let generator = LoadGenerator(scenario: context.scenario, seed: item.seed, mode: context.generator)
        // Go-compatible runs also reproduce the original stream's order of simultaneous events.
        let order: EventStream.SimultaneousOrder = context.generator == .goCompatible ? .goLoadgen : .endsFirst
        let stream = EventStream(generator: generator, scenario: context.scenario, simultaneousOrder: order)
        return try drive(source: StreamEventIterator(stream: stream), seed: item.seed, groups: item.groups,
                         keepSeries: item.keepSeries, context: context, progress: progress)
    }
}
