import PropertyBased
import Testing
@testable import Levee

/// One random test case: a Levee's configuration and a sequence of operations on explicit time.
struct CoreInvariantCase: Sendable, CustomStringConvertible {
    var successRate: Double
    var timeoutMilliseconds: Int
    var dryRun: Bool
    var maximumInFlight: Int
    /// Share of releases reported as failures (the rest: successes, and a few ignored).
    var failureShare: Double
    /// Each word encodes one operation (see `CoreInvariantChecker.apply`).
    var operations: [UInt64]

    var description: String {
        "successRate \(successRate), timeout \(timeoutMilliseconds) ms, dryRun \(dryRun), "
            + "maximumInFlight \(maximumInFlight), failureShare \(failureShare), \(operations.count) operations"
    }

    static let generator = zip(
        Gen.double(in: 0.000_001...0.999_999),
        Gen.int(in: 1...5_000),
        Gen.bool,
        Gen.int(in: 1...48),
        Gen.double(in: 0...1),
        Gen<UInt64>.value().array(of: 1...500)
    ).map { values in
        CoreInvariantCase(successRate: values.0, timeoutMilliseconds: values.1, dryRun: values.2,
                          maximumInFlight: values.3, failureShare: values.4, operations: values.5)
    }
}

/// Applies operations to a Levee, keeps a model of what must be true, and checks every
/// invariant after every operation. Records issues through `#expect`.
struct CoreInvariantChecker {
    let levee: Levee
    let testCase: CoreInvariantCase
    let recorder = CoreTransitionRecorder()
    var now: Int64 = 1_000
    /// The latest instant handed to the Levee (`now` may run ahead of it).
    var latest: Int64?
    var live: [Permit] = []
    var released: [Permit] = []
    var stale: [Permit] = []

    // Model counts since the last restore (restore keeps or resets counters: both are fine).
    var baseline = LeveeStatistics.Counters()
    var acquires = 0
    var admitted = 0
    var rejected = 0
    var staleReleases = 0
    var completed = 0
    var transitionsAtBaseline = 0
    var failures = 0

    init(_ testCase: CoreInvariantCase) throws {
        self.testCase = testCase
        let slo = try SLO(successRate: testCase.successRate, timeout: .milliseconds(testCase.timeoutMilliseconds))
        levee = Levee(slo: slo, options: .init(dryRun: testCase.dryRun, maximumInFlight: testCase.maximumInFlight))
        levee.addObserver(recorder)
    }

    /// Operations applied so far: failures come in phases of 100 operations, alternating between
    /// the case's failure share and a twentieth of it, so that circuits open and recover.
    var applied = 0

    mutating func outcome(_ word: UInt64) -> Outcome {
        let draw = Double(word >> 40) / Double(1 << 24)
        if draw < 0.03 { return .ignored }
        let share = (applied / 100) % 2 == 0 ? testCase.failureShare : testCase.failureShare / 20
        return draw < 0.03 + 0.97 * share ? .failure : .success
    }

    mutating func acquire() {
        let before = levee.statistics
        latest = now
        guard let admission = try? levee.acquire(at: now) else {
            Issue.record("acquire at a non-decreasing instant threw")
            return
        }
        acquires += 1
        let after = levee.statistics
        switch admission {
        case .admitted(let permit):
            admitted += 1
            live.append(permit)
            #expect(permit.acquiredAt == now)
            #expect(!permit.isProbe || after.state == .open, "a probe is admitted only while open")
            if !testCase.dryRun {
                #expect(permit.wouldHaveBeenRejected == nil)
                if let limit = after.concurrencyLimit {
                    #expect(after.inFlight <= limit, "admitted above the concurrency limit \(limit)")
                }
            }
        case .rejected(let rejection):
            rejected += 1
            #expect(rejection.inFlight == after.inFlight)
            #expect(after.inFlight == before.inFlight)
            #expect((0...1).contains(rejection.estimatedSuccessRate))
            #expect((0...1).contains(rejection.rejectionProbability))
            switch rejection.reason {
            case .circuitOpen: #expect(after.state == .open)
            case .shedding: #expect(after.state.kind == .throttled)
            case .concurrencyLimit:
                #expect(after.inFlight >= min(rejection.concurrencyLimit ?? .max, testCase.maximumInFlight))
            }
            if testCase.dryRun {
                // Dry run rejects only at the permit table's hard ceiling.
                #expect(after.inFlight == testCase.maximumInFlight, "dry run rejected below the hard ceiling")
            }
        }
    }

    mutating func release(index: Int, outcome: Outcome) {
        guard !live.isEmpty else { return }
        let permit = live.remove(at: index % live.count)
        latest = now
        do {
            try levee.release(permit, outcome: outcome, at: now)
        } catch {
            Issue.record("release at a non-decreasing instant threw \(error)")
        }
        completed += 1
        released.append(permit)
        if released.count > 64 { released.removeFirst() }
    }

    mutating func releaseAgain(_ permits: [Permit], index: Int, outcome: Outcome) {
        guard !permits.isEmpty else { return }
        let permit = permits[index % permits.count]
        let before = levee.statistics
        latest = now
        #expect(throws: Never.self) { try levee.release(permit, outcome: outcome, at: now) }
        staleReleases += 1
        let after = levee.statistics
        #expect(after.inFlight == before.inFlight)
        #expect(after.sampleCount == before.sampleCount)
        #expect(after.estimatedSuccessRate == before.estimatedSuccessRate)
    }

    mutating func goBackwards(by amount: Int64, acquire: Bool) {
        guard let latest else { return }
        let before = levee.statistics
        let instant = latest - max(amount, 1)
        if acquire {
            #expect(throws: LeveeError.timeWentBackwards(instant: instant, latest: latest)) { try levee.acquire(at: instant) }
        } else if let permit = live.first {
            #expect(throws: LeveeError.timeWentBackwards(instant: instant, latest: latest)) {
                try levee.release(permit, outcome: .success, at: instant)
            }
        }
        #expect(levee.statistics == before, "a refused instant changed the Levee")
    }

    mutating func restore() {
        latest = now
        do {
            try levee.restore(from: levee.snapshot(), at: now)
        } catch {
            Issue.record("restoring its own snapshot failed: \(error)")
            return
        }
        stale += live
        if stale.count > 64 { stale.removeFirst(stale.count - 64) }
        live = []
        released = []
        let statistics = levee.statistics
        baseline = statistics.counters
        acquires = 0; admitted = 0; rejected = 0; staleReleases = 0; completed = 0
        transitionsAtBaseline = recorder.changes.count
    }

    /// Applies one operation; returns after checking every invariant.
    mutating func apply(_ word: UInt64) {
        applied += 1
        let argument = word >> 8
        switch word % 100 {
        case 0..<38:
            now += Int64(argument % 2_000_000)
            acquire()
        case 38..<68:
            now += Int64(argument % 3_000_000)
            release(index: Int(argument % 1_000), outcome: outcome(word))
        case 68..<71:
            releaseAgain(released, index: Int(argument % 1_000), outcome: outcome(word))
        case 71..<73:
            releaseAgain(stale, index: Int(argument % 1_000), outcome: outcome(word))
        case 73..<83:
            now += Int64(argument % 50_000_000)
        case 83..<86:
            // A large gap: a second up to about three hours.
            now += coreSecond * [1, 10, 100, 1_000, 10_000][Int(argument % 5)]
        case 86..<89:
            goBackwards(by: Int64(argument % 1_000_000_000), acquire: argument & 1 == 0)
        case 89..<91:
            restore()
        default:
            // A burst of short calls, enough evidence to move the error side.
            for step in 0..<Int(20 + argument % 200) {
                now += Int64(1 + (argument >> 16) % 2_000_000)
                acquire()
                if !live.isEmpty, step % 2 == 0 || live.count >= testCase.maximumInFlight {
                    now += 500_000
                    release(index: live.count - 1, outcome: outcome(word &* 0x9E37_79B9_7F4A_7C15 &+ UInt64(step) &* 0xBF58_476D_1CE4_E5B9))
                }
            }
        }
        checkInvariants()
    }

    func checkInvariants() {
        let statistics = levee.statistics
        let counters = statistics.counters
        let delta = (admitted: counters.admitted - baseline.admitted,
                     rejected: counters.rejected - baseline.rejected,
                     completed: (counters.successes + counters.failures + counters.ignored)
                         - (baseline.successes + baseline.failures + baseline.ignored),
                     stale: counters.staleReleases - baseline.staleReleases,
                     dryRun: counters.dryRunRejections - baseline.dryRunRejections)

        // In flight: never negative, equal to the outstanding permits, never above the ceiling.
        #expect(statistics.inFlight >= 0)
        #expect(statistics.inFlight == live.count)
        #expect(statistics.inFlight <= testCase.maximumInFlight)
        // Counters add up.
        #expect(delta.admitted == admitted)
        #expect(delta.rejected == rejected)
        #expect(delta.admitted + delta.rejected == acquires)
        #expect(delta.admitted - delta.completed == statistics.inFlight)
        #expect(delta.completed == completed)
        #expect(delta.stale == staleReleases)
        #expect(counters.probes <= counters.admitted)
        if testCase.dryRun {
            #expect(delta.dryRun <= delta.admitted)
        } else {
            #expect(counters.dryRunRejections == 0)
        }
        // Estimates are finite and in range.
        #expect(statistics.estimatedSuccessRate.isFinite && (0...1).contains(statistics.estimatedSuccessRate))
        let interval = statistics.successRateInterval
        #expect(interval.lowerBound >= 0 && interval.upperBound <= 1)
        #expect(interval.lowerBound <= statistics.estimatedSuccessRate + 1e-9
                && statistics.estimatedSuccessRate <= interval.upperBound + 1e-9,
                "the interval \(interval) must contain the estimate \(statistics.estimatedSuccessRate)")
        #expect(statistics.sampleCount.isFinite && statistics.sampleCount >= 0)
        #expect(statistics.rejectionProbability.isFinite && (0...1).contains(statistics.rejectionProbability))
        for value in [statistics.baselineLatencyNanoseconds, statistics.recentLatencyNanoseconds,
                      statistics.baselineThroughput, statistics.offeredRate] {
            #expect(value.isFinite && value >= 0)
        }
        if let limit = statistics.concurrencyLimit { #expect(limit >= 1 && limit <= testCase.maximumInFlight) }
        // The state agrees with the statistics.
        #expect(statistics.state == levee.state)
        switch statistics.state {
        case .closed:
            #expect(statistics.concurrencyLimit == nil)
            #expect(statistics.rejectionProbability == 0)
        case .open:
            // Not `rejectionProbability > 0`: the recovery ramp reaches full admission before the
            // circuit closes (see `ExplicitTimeTests.anOpenCircuitRejectsSomething`).
            break
        case .throttled(let limit):
            #expect(limit >= 1)
            if let active = statistics.concurrencyLimit {
                #expect(limit == active)
            } else {
                #expect(statistics.rejectionProbability > 0, "throttled without a limit must be shedding")
                #expect(limit == testCase.maximumInFlight)
            }
        }
        // Transitions: one per change of kind, delivered in order, ending in the current state.
        let changes = recorder.changes
        #expect(changes.count - transitionsAtBaseline == counters.transitions - baseline.transitions)
        for (previous, next) in zip(changes, changes.dropFirst()) {
            #expect(previous.to.kind == next.from.kind)
            #expect(previous.at <= next.at)
        }
        #expect(changes.allSatisfy { $0.from.kind != $0.to.kind })
        if let last = changes.last { #expect(last.to.kind == statistics.state.kind) }
    }
}

// A time limit: a failing random case shrinks for minutes, which must fail the run rather than stall it.
@Suite(.timeLimit(.minutes(3)))
struct InvariantPropertyTests {
    static func check(_ testCase: CoreInvariantCase) throws {
        var checker = try CoreInvariantChecker(testCase)
        checker.checkInvariants()
        for word in testCase.operations { checker.apply(word) }
        // Releasing everything still outstanding brings in-flight back to zero.
        for permit in checker.live {
            #expect(throws: Never.self) { try checker.levee.release(permit, outcome: .ignored, at: checker.now) }
        }
        #expect(checker.levee.statistics.inFlight == 0)
    }

    /// Random cases, as property-based testing intends (a failure prints the seed to replay it).
    @Test func invariantsHoldOverRandomOperationSequences() async {
        await propertyCheck(count: 100, input: CoreInvariantCase.generator) { testCase in
            try Self.check(testCase)
        }
    }

    /// The same generator on fixed seeds: this part of the suite is the same on every run.
    @Test(arguments: 0..<50 as Range<UInt64>)
    func invariantsHoldOnAFixedCorpus(seed: UInt64) throws {
        var mix = SplitMix64(seed: seed)
        var rng = Xoshiro(seed: (mix.next(), mix.next(), mix.next(), mix.next()))
        try Self.check(CoreInvariantCase.generator.run(using: &rng))
    }

    /// Hand-picked corners: extreme SLOs, a single-slot ceiling, dry run, only failures.
    @Test(arguments: [
        (1e-300, false, 1, 1.0), (1e-17, false, 8, 0.5), (0.5, true, 1, 1.0), (0.999_999_999, false, 48, 0.001),
        (0.999_999_999_999_999, true, 16, 0.02), (0.9, false, 48, 0.15), (0.99, true, 48, 1.0),
    ])
    func invariantsHoldInCorners(successRate: Double, dryRun: Bool, maximumInFlight: Int, failureShare: Double) throws {
        var rng = SplitMix64(seed: UInt64(maximumInFlight) &* 1_000 &+ UInt64(failureShare * 1_000))
        let operations = (0..<800).map { _ in rng.next() }
        try Self.check(CoreInvariantCase(successRate: successRate, timeoutMilliseconds: 100, dryRun: dryRun,
                                         maximumInFlight: maximumInFlight, failureShare: failureShare,
                                         operations: operations))
    }

    /// A Levee restores its own snapshot whatever its SLO.
    @Test(arguments: [1e-300, 1e-17, 1e-9, 0.5, 0.999_999_999, 0.999_999_999_999_999])
    func extremeSLOsSnapshotAndRestore(successRate: Double) throws {
        let levee = Levee(slo: try SLO(successRate: successRate, timeout: .seconds(1)))
        var driver = CoreDriver(levee)
        for failureRate in [0.0, 1, 0.3, 0] {
            driver.run(seconds: 2, rate: 1_000, call: CoreDriver.constant(failureRate: failureRate))
            #expect(throws: Never.self, "after failure rate \(failureRate)") {
                try levee.restore(from: levee.snapshot().serialized(), at: driver.now)
            }
        }
    }
}
