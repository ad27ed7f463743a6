import Synchronization
import Testing
@testable import Levee

/// The result of an async throwing call.
func coreResult<T>(_ body: () async throws -> T) async -> Result<T, any Error> {
    do { return .success(try await body()) } catch { return .failure(error) }
}

/// Shared mutable state for concurrent tasks (a class, so escaping closures can capture it).
final class CoreShared<Value: Sendable>: Sendable {
    private let storage: Mutex<Value>
    init(_ value: Value) { storage = Mutex(value) }
    var value: Value { storage.withLock { $0 } }
    @discardableResult
    func update<R: Sendable>(_ body: (inout Value) -> R) -> R { storage.withLock { body(&$0) } }
}

/// What the callers of `run` saw, tallied per outcome.
struct CoreCallerTally: Sendable {
    var attempts = 0
    var successes = 0
    var failures = 0
    var ignored = 0
    var rejected: [RejectionReason: Int] = [:]
    var unexpected: [String] = []

    mutating func add(_ other: CoreCallerTally) {
        attempts += other.attempts
        successes += other.successes
        failures += other.failures
        ignored += other.ignored
        rejected.merge(other.rejected, uniquingKeysWith: +)
        unexpected += other.unexpected
    }

    /// Counts one `run` result, as its caller sees it.
    mutating func record(_ result: Result<Int, any Error>, classifiedIgnored: Bool = false) {
        attempts += 1
        switch result {
        case .success: if classifiedIgnored { ignored += 1 } else { successes += 1 }
        case .failure(let rejection as Rejection): rejected[rejection.reason, default: 0] += 1
        case .failure(is CoreTestError), .failure(is LeveeTimeoutError): failures += 1
        case .failure(is CancellationError): ignored += 1  // only cancelled callers throw it here
        case .failure(let error): unexpected.append("\(error)")
        }
    }
}

@Suite(.timeLimit(.minutes(2)))
struct ConcurrencyStressTests {
    static let workers = 12
    static let callsPerWorker = 2_500
    /// Fewer slots than workers plus their children, so the hard ceiling binds too.
    static let ceiling = 10

    /// Failure probability by phase of a worker's calls: healthy, down, healthy again, so the
    /// Levee opens and closes while every worker hammers it.
    static func failureRate(_ index: Int) -> Double {
        switch index * 10 / callsPerWorker {
        case 0..<3: 0.02
        case 3..<5: 0.9
        default: 0.01
        }
    }

    static func worker(_ levee: Levee, seed: UInt64) async -> CoreCallerTally {
        var rng = SplitMix64(seed: seed)
        var tally = CoreCallerTally()
        for index in 0..<callsPerWorker {
            let fail = rng.chance(failureRate(index))
            let yields = Int(rng.next() % 3)
            switch rng.next() % 100 {
            case 0..<60:
                // Plain run, sometimes suspending inside the operation.
                let result = await coreResult { () async throws -> Int in
                    try await levee.run { () async throws -> Int in
                        for _ in 0..<yields { await Task.yield() }
                        if fail { throw CoreTestError(code: 500) }
                        return index
                    }
                }
                tally.record(result)
            case 60..<70:
                // A classifier that ignores the call.
                let result = await coreResult { () async throws -> Int in
                    try await levee.run(classify: { _ in .ignored }) { index }
                }
                tally.record(result, classifiedIgnored: true)
            case 70..<85:
                // A child task cancelled while (or before) its call runs.
                let child = Task { () async throws -> Int in
                    try await levee.run { () async throws -> Int in
                        try await Task.sleep(for: .seconds(30))
                        return index
                    }
                }
                if yields > 0 { await Task.yield() }
                child.cancel()
                tally.record(await child.result)
            case 85..<95:
                // The enforced-timeout path, for quick operations.
                let result = await coreResult { () async throws -> Int in
                    try await levee.run(enforcingTimeout: true) { () async throws -> Int in
                        await Task.yield()
                        if fail { throw CoreTestError(code: 503) }
                        return index
                    }
                }
                tally.record(result)
            default:
                // No suspension at all inside the operation.
                let result = await coreResult { () async throws -> Int in
                    try await levee.run { () async throws -> Int in
                        if fail { throw CoreTestError(code: 400) }
                        return index
                    }
                }
                tally.record(result)
            }
        }
        return tally
    }

    @Test func countersAddUpUnderConcurrency() async throws {
        let levee = Levee(slo: try SLO(successRate: 0.95, timeout: .milliseconds(200)),
                          options: .init(maximumInFlight: Self.ceiling))
        let observed = CoreTransitionRecorder()
        levee.addObserver(observed)
        let changes = levee.stateChanges(bufferSize: 10_000)
        let streamedStorage = CoreShared<[StateChange]>([])
        let consumer = Task {
            for await change in changes { streamedStorage.update { $0.append(change) } }
        }
        let done = CoreShared(false)
        let violations = CoreShared<[String]>([])

        let tally = await withTaskGroup(of: CoreCallerTally?.self) { group in
            // Readers: every statistics read is a consistent snapshot taken under the lock.
            for _ in 0..<2 {
                group.addTask {
                    while !done.value {
                        let statistics = levee.statistics
                        let counters = statistics.counters
                        let completed = counters.successes + counters.failures + counters.ignored
                        var problems: [String] = []
                        if statistics.inFlight < 0 || statistics.inFlight > Self.ceiling { problems.append("in flight \(statistics.inFlight)") }
                        if counters.admitted - completed != statistics.inFlight {
                            problems.append("admitted \(counters.admitted) - completed \(completed) != in flight \(statistics.inFlight)")
                        }
                        if let limit = statistics.concurrencyLimit, limit < 1 { problems.append("limit \(limit)") }
                        if !(0...1).contains(statistics.rejectionProbability) { problems.append("p \(statistics.rejectionProbability)") }
                        _ = levee.state
                        if !problems.isEmpty { violations.update { $0 += problems } }
                        await Task.yield()
                    }
                    return nil
                }
            }
            for worker in 0..<Self.workers {
                group.addTask { await Self.worker(levee, seed: UInt64(worker) &* 7_919 &+ 1) }
            }
            var total = CoreCallerTally()
            var finished = 0
            for await result in group {
                guard let result else { continue }
                total.add(result)
                finished += 1
                if finished == Self.workers { done.update { $0 = true } }
            }
            return total
        }
        // Let the consumer catch up with every transition, then stop it.
        let expectedTransitions = levee.statistics.counters.transitions
        while streamedStorage.value.count < expectedTransitions { await Task.yield() }
        consumer.cancel()
        await consumer.value
        let streamed = streamedStorage.value

        let statistics = levee.statistics
        let counters = statistics.counters
        #expect(violations.value.isEmpty, "\(violations.value.prefix(5))")
        #expect(tally.unexpected.isEmpty, "\(tally.unexpected.prefix(5))")
        #expect(tally.attempts == Self.workers * Self.callsPerWorker)
        // Nothing in flight, nothing lost or counted twice.
        #expect(statistics.inFlight == 0)
        #expect(counters.staleReleases == 0)
        #expect(counters.successes + counters.failures + counters.ignored == counters.admitted)
        #expect(counters.admitted + counters.rejected == tally.attempts)
        // What the callers saw is exactly what Levee counted.
        #expect(counters.successes == tally.successes)
        #expect(counters.failures == tally.failures)
        #expect(counters.ignored == tally.ignored)
        #expect(counters.rejectedOpen == tally.rejected[.circuitOpen, default: 0])
        #expect(counters.rejectedShedding == tally.rejected[.shedding, default: 0])
        #expect(counters.rejectedLimit == tally.rejected[.concurrencyLimit, default: 0])
        // The scenario did exercise the breaker, and every transition reached both channels.
        #expect(counters.rejected > 0)
        #expect(counters.transitions >= 1)
        #expect(observed.changes.count == counters.transitions)
        #expect(streamed.count == counters.transitions)
        #expect(Set(streamed) == Set(observed.changes))
        #expect(streamed.allSatisfy { $0.from.kind != $0.to.kind })
    }

    /// Many tasks acquiring and releasing on explicit (clamped-free) instants through one shared
    /// Levee: permits are never lost or double-counted, and the hard ceiling holds.
    @Test func explicitTimeFromManyThreads() async throws {
        let levee = Levee(slo: try SLO(successRate: 0.9, timeout: .seconds(1)), options: .init(maximumInFlight: 32))
        let clock = CoreShared<Int64>(0)
        let results = await withTaskGroup(of: (admitted: Int, rejected: Int, timeErrors: Int).self) { group in
            for worker in 0..<8 {
                group.addTask {
                    var rng = SplitMix64(seed: UInt64(worker) + 100)
                    var held: [Permit] = []
                    var admitted = 0, rejected = 0, timeErrors = 0
                    for _ in 0..<3_000 {
                        let instant = clock.update { $0 += 1_000; return $0 }
                        if rng.chance(0.5) || held.isEmpty {
                            switch try? levee.acquire(at: instant) {
                            case .admitted(let permit)?: admitted += 1; held.append(permit)
                            case .rejected?: rejected += 1
                            case nil: timeErrors += 1  // another thread got the lock with a later instant
                            }
                        } else {
                            let permit = held.removeLast()
                            let outcome: Outcome = rng.chance(0.3) ? .failure : .success
                            // Retry until the release goes through: it must count exactly once.
                            while true {
                                do {
                                    try levee.release(permit, outcome: outcome, at: clock.update { $0 += 1; return $0 })
                                    break
                                } catch {
                                    timeErrors += 1
                                }
                            }
                        }
                        if rng.chance(0.05) { await Task.yield() }
                    }
                    for permit in held {
                        while (try? levee.release(permit, outcome: .ignored, at: clock.update { $0 += 1; return $0 })) == nil {}
                    }
                    return (admitted, rejected, timeErrors)
                }
            }
            var total = (admitted: 0, rejected: 0, timeErrors: 0)
            for await result in group {
                total.admitted += result.admitted
                total.rejected += result.rejected
                total.timeErrors += result.timeErrors
            }
            return total
        }
        let counters = levee.statistics.counters
        #expect(levee.statistics.inFlight == 0)
        #expect(counters.admitted == results.admitted)
        #expect(counters.rejected == results.rejected)
        #expect(counters.successes + counters.failures + counters.ignored == counters.admitted)
        #expect(counters.staleReleases == 0)
    }
}
