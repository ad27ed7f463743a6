import Synchronization
import Testing
@testable import Levee

/// A clock that moves only when told to. Sleepers wake when `advance` passes their deadline, or
/// throw `CancellationError` when their task is cancelled.
final class CoreManualClock: Clock {
    struct Instant: InstantProtocol {
        var offset: Duration
        func advanced(by duration: Duration) -> Instant { Instant(offset: offset + duration) }
        func duration(to other: Instant) -> Duration { other.offset - offset }
        static func < (lhs: Instant, rhs: Instant) -> Bool { lhs.offset < rhs.offset }
    }

    private struct State {
        var now = Instant(offset: .zero)
        var nextID = 0
        var sleepers: [Int: (deadline: Instant, continuation: CheckedContinuation<Void, any Error>)] = [:]
    }

    private let state = Mutex(State())

    var now: Instant { state.withLock { $0.now } }
    var minimumResolution: Duration { .nanoseconds(1) }
    var sleeperCount: Int { state.withLock { $0.sleepers.count } }

    func advance(by duration: Duration) {
        let due = state.withLock { state in
            state.now = state.now.advanced(by: duration)
            let now = state.now
            let due = state.sleepers.filter { $0.value.deadline <= now }
            for id in due.keys { state.sleepers[id] = nil }
            return due.values.map(\.continuation)
        }
        for continuation in due { continuation.resume() }
    }

    /// Moves the clock to `offset` from its origin (never backwards).
    func set(to offset: Duration) {
        let current = now.offset
        if offset > current { advance(by: offset - current) }
    }

    func sleep(until deadline: Instant, tolerance: Duration?) async throws {
        let id = state.withLock { state in
            state.nextID += 1
            return state.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let immediate: Bool? = state.withLock { state in
                    if Task.isCancelled { return false }
                    if deadline <= state.now { return true }
                    state.sleepers[id] = (deadline, continuation)
                    return nil
                }
                switch immediate {
                case true?: continuation.resume()
                case false?: continuation.resume(throwing: CancellationError())
                case nil: break
                }
            }
        } onCancel: {
            let continuation = state.withLock { $0.sleepers.removeValue(forKey: id)?.continuation }
            continuation?.resume(throwing: CancellationError())
        }
    }
}

/// A one-shot signal a test can await.
final class CoreSignal: Sendable {
    private let stream: AsyncStream<Void>
    private let continuation: AsyncStream<Void>.Continuation
    init() { (stream, continuation) = AsyncStream.makeStream(of: Void.self) }
    func fire() { continuation.yield() }
    func wait() async { for await _ in stream { return } }
}

struct CoreTestError: Error, Equatable { var code: Int }

/// A thread-safe counter, readable inside `#expect`.
final class CoreCounter: Sendable {
    private let storage = Mutex(0)
    func increment() { storage.withLock { $0 += 1 } }
    var value: Int { storage.withLock { $0 } }
}

@Suite(.timeLimit(.minutes(1)))
struct RunTests {
    static let slo = try! SLO(successRate: 0.99, timeout: .seconds(1))

    static func manual(_ options: Levee.Options = .init(), slo: SLO = slo) -> (Levee, CoreManualClock) {
        let clock = CoreManualClock()
        var options = options
        options.clock = LeveeClock(clock)
        return (Levee(slo: slo, options: options), clock)
    }

    // MARK: Outcomes

    @Test func valueIsReturnedAndRecordedAsSuccess() async throws {
        let (levee, clock) = Self.manual()
        let value = try await levee.run {
            clock.advance(by: .milliseconds(20))
            return 42
        }
        #expect(value == 42)
        let statistics = levee.statistics
        #expect(statistics.counters.admitted == 1)
        #expect(statistics.counters.successes == 1)
        #expect(statistics.counters.failures == 0)
        #expect(statistics.inFlight == 0)
        #expect(statistics.sampleCount == 1)
        // The latency is read from the clock: 20 ms between admission and completion.
        #expect(abs(statistics.recentLatencyNanoseconds - 20e6) < 1)
    }

    @Test func thrownErrorIsRethrownUnchangedAndRecordedAsFailure() async throws {
        let (levee, _) = Self.manual()
        await #expect(throws: CoreTestError(code: 7)) {
            try await levee.run { () async throws -> Int in throw CoreTestError(code: 7) }
        }
        let counters = levee.statistics.counters
        #expect(counters.failures == 1)
        #expect(counters.successes == 0)
        #expect(levee.statistics.inFlight == 0)
    }

    @Test func classifierCanTreatAValueAsFailure() async throws {
        let (levee, _) = Self.manual()
        let classify: (Result<Int, any Error>) -> Outcome = { result in
            if case .success(let status) = result, status >= 500 { return .failure }
            return Levee.defaultClassification(result)
        }
        #expect(try await levee.run(classify: classify) { 503 } == 503)  // the value is still returned
        #expect(try await levee.run(classify: classify) { 200 } == 200)
        let counters = levee.statistics.counters
        #expect(counters.failures == 1)
        #expect(counters.successes == 1)
    }

    @Test func classifierCanTreatAnErrorAsSuccess() async throws {
        let (levee, _) = Self.manual()
        let classify: (Result<Int, any Error>) -> Outcome = { result in
            if case .failure(let error as CoreTestError) = result, error.code == 404 { return .success }
            return Levee.defaultClassification(result)
        }
        await #expect(throws: CoreTestError(code: 404)) {  // still rethrown
            try await levee.run(classify: classify) { () async throws -> Int in throw CoreTestError(code: 404) }
        }
        await #expect(throws: CoreTestError(code: 500)) {
            try await levee.run(classify: classify) { () async throws -> Int in throw CoreTestError(code: 500) }
        }
        let counters = levee.statistics.counters
        #expect(counters.successes == 1)
        #expect(counters.failures == 1)
    }

    @Test func classifierCanIgnoreACall() async throws {
        let (levee, _) = Self.manual()
        _ = try await levee.run(classify: { _ in .ignored }) { 1 }
        let statistics = levee.statistics
        #expect(statistics.counters.ignored == 1)
        #expect(statistics.sampleCount == 0)
        #expect(statistics.inFlight == 0)
    }

    @Test func defaultClassification() {
        #expect(Levee.defaultClassification(Result<Int, any Error>.success(1)) == .success)
        #expect(Levee.defaultClassification(Result<Int, any Error>.failure(CoreTestError(code: 1))) == .failure)
    }

    // MARK: Cancellation

    @Test func cancellationOfTheCallerIsIgnored() async throws {
        let (levee, clock) = Self.manual()
        let started = CoreSignal()
        let task = Task {
            try await levee.run { () async throws -> Int in
                started.fire()
                try await clock.sleep(for: .seconds(3_600))
                return 1
            }
        }
        await started.wait()
        #expect(levee.statistics.inFlight == 1)
        task.cancel()
        await #expect(throws: CancellationError.self) { try await task.value }
        let statistics = levee.statistics
        #expect(statistics.inFlight == 0)  // the permit is released
        #expect(statistics.counters.ignored == 1)
        #expect(statistics.counters.successes == 0 && statistics.counters.failures == 0)
        #expect(statistics.sampleCount == 0)  // and no sample recorded
    }

    @Test func cancellationErrorWithoutCancellationIsAFailure() async throws {
        let (levee, _) = Self.manual()
        await #expect(throws: CancellationError.self) {
            try await levee.run { () async throws -> Int in throw CancellationError() }
        }
        #expect(levee.statistics.counters.failures == 1)
        #expect(levee.statistics.counters.ignored == 0)
    }

    @Test func otherErrorsOfACancelledCallerAreFailures() async throws {
        let (levee, _) = Self.manual()
        let task = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return try await levee.run { () async throws -> Int in throw CoreTestError(code: 1) }
        }
        await #expect(throws: CoreTestError(code: 1)) { try await task.value }
        #expect(levee.statistics.counters.failures == 1)
        #expect(levee.statistics.counters.ignored == 0)
    }

    @Test func aCancelledCallerWhoseOperationSucceedsRecordsASuccess() async throws {
        let (levee, _) = Self.manual()
        let task = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return try await levee.run { 5 }
        }
        #expect(try await task.value == 5)
        #expect(levee.statistics.counters.successes == 1)
    }

    // MARK: Rejection

    @Test func rejectionThrowsWithoutRunningTheOperation() async throws {
        let (levee, _) = Self.manual(.init(maximumInFlight: 1))
        let held = try #require(try levee.acquire(at: 0).permit)
        let ran = CoreCounter()
        do {
            try await levee.run { ran.increment() }
            Issue.record("the call must be rejected")
        } catch let rejection as Rejection {
            #expect(rejection.reason == .concurrencyLimit)
            #expect(rejection.inFlight == 1)
        }
        await #expect(throws: Rejection.self) {
            try await levee.run(enforcingTimeout: true) { ran.increment() }
        }
        #expect(ran.value == 0)
        #expect(levee.statistics.counters.rejectedLimit == 2)
        #expect(levee.statistics.counters.admitted == 1)
        try levee.release(held, outcome: .success, at: 1)
        try await levee.run { ran.increment() }
        #expect(ran.value == 1)
    }

    @Test func openCircuitRejectsRunCallsWithTheReasonAndFigures() async throws {
        let (levee, clock) = Self.manual()
        // Explicit time and the clock share one time line; drive an outage on explicit time.
        var driver = CoreDriver(levee)
        driver.run(seconds: 2, rate: 1_000, call: CoreDriver.constant(failureRate: 0))
        driver.run(seconds: 1, rate: 1_000, call: CoreDriver.constant(failureRate: 1))
        driver.drain()
        #expect(levee.state == .open)
        clock.set(to: .nanoseconds(driver.now))
        let ran = CoreCounter()
        var rejections: [Rejection] = []
        let admittedBefore = levee.statistics.counters.admitted
        for _ in 0..<50 {
            clock.advance(by: .milliseconds(1))
            do {
                try await levee.run { () async throws -> Void in
                    ran.increment()
                    throw CoreTestError(code: 503)
                }
            } catch let rejection as Rejection {
                rejections.append(rejection)
            } catch {}
        }
        #expect(rejections.count >= 45)
        #expect(ran.value == levee.statistics.counters.admitted - admittedBefore)
        let rejection = try #require(rejections.first)
        #expect(rejection.reason == .circuitOpen)
        #expect(rejection.estimatedSuccessRate < 0.5)
        #expect(rejection.rejectionProbability > 0.9)
        #expect(rejection.inFlight == 0)
        #expect(rejection.description.contains("circuit open"))
    }

    // MARK: Enforced timeout

    @Test func enforcedTimeoutCancelsTheOperationAndRecordsAFailure() async throws {
        let levee = Levee(slo: try SLO(successRate: 0.99, timeout: .milliseconds(50)))
        let sawCancellation = CoreCounter()
        do {
            _ = try await levee.run(enforcingTimeout: true) { () async throws -> Int in
                do {
                    try await Task.sleep(for: .seconds(60))
                } catch is CancellationError {
                    sawCancellation.increment()
                    throw CancellationError()
                }
                return 1
            }
            Issue.record("the operation outlives the SLO timeout: the call must fail")
        } catch let error as LeveeTimeoutError {
            #expect(error.timeout == .milliseconds(50))
            #expect(error.description.contains("exceeded the SLO timeout"))
        }
        #expect(sawCancellation.value == 1)
        let statistics = levee.statistics
        #expect(statistics.counters.failures == 1)
        #expect(statistics.counters.ignored == 0)
        #expect(statistics.inFlight == 0)
    }

    /// Starts an enforced run on a manual clock whose operation sleeps an hour, and returns once
    /// the operation is running.
    static func startHourLongEnforcedRun() async -> (Levee, CoreManualClock, Task<Int, any Error>) {
        let (levee, clock) = manual()
        let started = CoreSignal()
        let task = Task {
            try await levee.run(enforcingTimeout: true) { () async throws -> Int in
                started.fire()
                try await clock.sleep(for: .seconds(3_600))
                return 1
            }
        }
        await started.wait()
        return (levee, clock, task)
    }

    @Test func enforcedTimeoutOnAManualClock() async throws {
        let (levee, clock, task) = await Self.startHourLongEnforcedRun()
        clock.advance(by: .seconds(2))  // past the 1 s SLO timeout
        await #expect(throws: LeveeTimeoutError(timeout: .seconds(1))) { try await task.value }
        #expect(levee.statistics.counters.failures == 1)
        #expect(levee.statistics.inFlight == 0)
        #expect(clock.sleeperCount == 0)  // the operation and the timer are both gone
    }

    @Test func enforcedTimeoutLetsQuickOperationsThrough() async throws {
        let (levee, clock) = Self.manual()
        let value = try await levee.run(enforcingTimeout: true) { () async throws -> Int in
            clock.advance(by: .milliseconds(10))
            return 9
        }
        #expect(value == 9)
        await #expect(throws: CoreTestError(code: 3)) {
            try await levee.run(enforcingTimeout: true) { () async throws -> Int in throw CoreTestError(code: 3) }
        }
        let classified = try await levee.run(enforcingTimeout: true, classify: { _ in .ignored }) { 4 }
        #expect(classified == 4)
        let counters = levee.statistics.counters
        #expect(counters.successes == 1 && counters.failures == 1 && counters.ignored == 1)
        #expect(levee.statistics.inFlight == 0)
        // Not enforcing: the plain `run`, even for an operation slower than the timeout.
        let slow = try await levee.run(enforcingTimeout: false) { () async throws -> Int in
            clock.advance(by: .seconds(5))
            return 5
        }
        #expect(slow == 5)
        #expect(levee.statistics.counters.successes == 2)
    }

    @Test func cancellingTheCallerOfAnEnforcedRunIsIgnored() async throws {
        let (levee, _, task) = await Self.startHourLongEnforcedRun()
        task.cancel()
        await #expect(throws: CancellationError.self) { try await task.value }
        #expect(levee.statistics.counters.ignored == 1)
        #expect(levee.statistics.counters.failures == 0)
        #expect(levee.statistics.inFlight == 0)
    }

    // MARK: Clock and explicit time agree

    /// The same calls, made one at a time through `run` on a manual clock and through
    /// `acquire`/`release` at the same instants, produce identical decisions and statistics.
    @Test func runAndExplicitTimeMakeIdenticalDecisions() async throws {
        let (viaRun, clock) = Self.manual()
        let explicit = Levee(slo: Self.slo)
        var rng = SplitMix64(seed: 12)
        var now: Int64 = 0
        var decisions: ([String], [String]) = ([], [])
        for index in 0..<12_000 {
            now += coreMillisecond
            let failureRate = index < 3_000 ? 0.002 : index < 6_000 ? 1 : 0.002
            let failed = rng.chance(failureRate)
            let latency = Int64(2 + rng.next() % 5) * coreMillisecond

            clock.set(to: .nanoseconds(now))
            do {
                try await viaRun.run {
                    clock.advance(by: .nanoseconds(latency))
                    if failed { throw CoreTestError(code: 500) }
                }
                decisions.0.append("admitted")
            } catch let rejection as Rejection {
                decisions.0.append("\(rejection)")
            } catch {
                decisions.0.append("admitted")
            }

            switch try explicit.acquire(at: now) {
            case .admitted(let permit):
                try explicit.release(permit, outcome: failed ? .failure : .success, at: now + latency)
                decisions.1.append("admitted")
            case .rejected(let rejection):
                decisions.1.append("\(rejection)")
            }
            now += latency
        }
        let firstDifference = zip(decisions.0, decisions.1).enumerated().first { $0.element.0 != $0.element.1 }
        #expect(firstDifference == nil, "first difference at call \(firstDifference?.offset ?? -1)")
        #expect(viaRun.statistics == explicit.statistics)
        #expect(explicit.statistics.counters.transitions >= 2)
    }
}
