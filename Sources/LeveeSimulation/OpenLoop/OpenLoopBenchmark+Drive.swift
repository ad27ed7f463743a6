import Foundation
import Synchronization

extension OpenLoopBenchmark {
    /// The run loop of one seed: fill a chunk from the stream, hand it to every lane, repeat.
    ///
    /// With one group everything happens on the calling thread. With more, the calling thread
    /// fills chunks into a small ring and runs group 0, and one extra thread per other group
    /// runs its lanes over the same chunks, in the same order.
    static func drive<Source: IteratorProtocol>(
        source: Source, seed: UInt64, groups: [[CandidateDescriptor]], keepSeries: Bool,
        context: RunContext, progress: BenchmarkProgress?
    ) throws(OpenLoopError) -> ItemOutput where Source.Element == StreamEvent {
        var feed = EventFeed(source: source, oracle: context.oracle, slotCapacity: context.slotCapacity,
                             secondCount: context.secondCount)
        // Candidates that decide every call alike get no lane; their outcome comes from the feed.
        // (`ExecutionPlan` keeps them in group 0, so no other group is left empty.)
        let laneGroups = groups.map { $0.filter { $0.fixedDecision == nil } }
        let laneOutcomes: [LaneOutcome]
        if laneGroups.count <= 1 {
            let lanes = makeLanes(laneGroups.first ?? [], context: context)
            let buffer = ChunkBuffer(capacity: chunkSize)
            while true {
                let count = try feed.fill(buffer)
                if count == 0 { break }
                let chunk = buffer.chunk
                for lane in lanes { lane.process(chunk) }
                progress?.add(count)
            }
            laneOutcomes = lanes.map { $0.finish() }
        } else {
            laneOutcomes = try drivePipelined(feed: &feed, groups: laneGroups, context: context, progress: progress)
        }
        // Back in the order the groups list the candidates (lanes keep that order among themselves).
        let environment = CandidateEnvironment(slo: context.slo, slotCapacity: context.slotCapacity)
        var nextLane = laneOutcomes.makeIterator()
        let outcomes = groups.joined().map { descriptor in
            guard let decision = descriptor.fixedDecision else { return nextLane.next()! }
            return feed.outcome(of: decision(environment), descriptor: descriptor.reference)
        }
        return finish(feed: feed, outcomes: outcomes, seed: seed, keepSeries: keepSeries, oracle: context.oracle)
    }

    static func makeLanes(_ candidates: [CandidateDescriptor], context: RunContext) -> [LaneDriver] {
        let environment = CandidateEnvironment(slo: context.slo, slotCapacity: context.slotCapacity)
        return candidates.map { descriptor in
            descriptor.makeLane(LaneContext(
                environment: environment, descriptor: descriptor.reference, secondCount: context.secondCount))
        }
    }

    private static func drivePipelined<Source>(
        feed: inout EventFeed<Source>, groups: [[CandidateDescriptor]], context: RunContext, progress: BenchmarkProgress?
    ) throws(OpenLoopError) -> [LaneOutcome] {
        let ring = ChunkRing(chunks: 16, chunkSize: chunkSize, consumers: groups.count - 1)
        let finished = DispatchGroup()
        let consumerOutcomes = OutcomeSlots(count: groups.count)
        for consumer in 0..<(groups.count - 1) {
            let candidates = groups[consumer + 1]
            finished.enter()
            let thread = Thread {
                // Lanes are made on the thread that runs them: they never cross threads.
                let lanes = makeLanes(candidates, context: context)
                ring.consume(as: consumer) { chunk in
                    for lane in lanes { lane.process(chunk) }
                }
                let outcomes = lanes.map { $0.finish() }
                consumerOutcomes.slots.withLock { $0[consumer + 1] = outcomes }
                progress?.recordThreadCPUTime()
                finished.leave()
            }
            thread.stackSize = 1 << 23
            thread.start()
        }
        let lanes = makeLanes(groups[0], context: context)
        var failure: OpenLoopError?
        do {
            try ring.produce { (buffer: ChunkBuffer) throws(OpenLoopError) -> Int in
                let count = try feed.fill(buffer)
                progress?.add(count)
                return count
            } afterPublishing: { chunk in
                for lane in lanes { lane.process(chunk) }
            }
        } catch {
            failure = error
        }
        finished.wait()
        if let failure { throw failure }
        var outcomes = lanes.map { $0.finish() }
        outcomes += consumerOutcomes.slots.withLock { $0.dropFirst().flatMap { $0 } }
        return outcomes
    }

    static func finish<Source>(
        feed: EventFeed<Source>, outcomes: [LaneOutcome], seed: UInt64, keepSeries: Bool, oracle: PrescientOracle
    ) -> ItemOutput {
        let runNanoseconds = feed.lastEventTime - (feed.firstEventTime ?? 0)
        let incidentSeconds = Double(oracle.incidentNanoseconds) / 1e9
        var estimate = 0
        if runNanoseconds > 0 {
            for incident in oracle.incidents {
                estimate += Int(Double(feed.requestCount) * Double(incident.durationNanoseconds) / Double(runNanoseconds))
            }
        }
        let prescient = PrescientCounts(
            requestsDuringIncidents: feed.requestsDuringIncidents, timeProportionalEstimate: estimate,
            incidentSeconds: incidentSeconds, runSeconds: Double(runNanoseconds) / 1e9)
        var results: [CandidateResult] = []
        var seriesCandidates: [SeedSeries.Candidate] = []
        for outcome in outcomes {
            let classified = TransitionClassifier.classify(outcome.transitions, oracle: oracle)
            let responses = TransitionClassifier.incidentResponses(
                initialState: outcome.initialState, transitions: outcome.transitions, oracle: oracle)
            let penalty = PenaltyScore(badPerSecond: outcome.badPerSecond, lostPerSecond: outcome.lostPerSecond)
            results.append(CandidateResult(
                identifier: outcome.descriptor.identifier, name: outcome.descriptor.displayName,
                allowed: outcome.allowed, blocked: outcome.blocked,
                badTraffic: penalty.badTraffic, lostBusiness: penalty.lostBusiness, totalPenalty: penalty.totalPenalty,
                transitions: TransitionClassifier.counts(of: classified),
                missedIncidents: responses.filter(\.missed).count,
                goodBlocked: outcome.goodBlocked, badAllowed: outcome.badAllowed, incidents: responses,
                protocolErrors: outcome.protocolErrors))
            if keepSeries {
                seriesCandidates.append(SeedSeries.Candidate(
                    identifier: outcome.descriptor.identifier, name: outcome.descriptor.displayName,
                    initialState: outcome.initialState, admittedPerSecond: outcome.admittedPerSecond,
                    transitions: outcome.transitions, classified: classified))
            }
        }
        let result = SeedResult(seed: seed, requestCount: feed.requestCount, eventCount: feed.eventCount,
                                prescient: prescient, requestsBeyondSeries: feed.clampedRequests, candidates: results)
        let series = keepSeries ? SeedSeries(seed: seed, offeredPerSecond: feed.offeredPerSecond, candidates: seriesCandidates) : nil
        return ItemOutput(seed: seed, result: result, series: series)
    }
}

/// The outcomes of the consumer threads' lanes, per group.
private final class OutcomeSlots: Sendable {
    let slots: Mutex<[[LaneOutcome]]>
    init(count: Int) { slots = Mutex(Array(repeating: [], count: count)) }
}
