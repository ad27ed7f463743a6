import Testing
@testable import LeveeSimulation

@Suite("Closed-loop backend: configuration, slots, queue, degradation, crashes")
struct BackendMechanicsTests {
    typealias S = BackendTestSupport
    let second = BackendTestSupport.second
    let millisecond = BackendTestSupport.millisecond

    @Test("Defaults are the original's reference constants; the presets differ only in the model and crash restart size")
    func defaults() {
        let c = BackendConfiguration.original
        #expect(c.nominalReplicaThroughput == 150 && c.queueDepthPerReplica == 50)
        #expect(c.minimumReplicas == 1 && c.maximumReplicas == 8 && c.initialReplicas == 1)
        #expect(c.targetUtilisation == 0.70 && c.evaluationInterval == 15 * second && c.provisioningLag == 30 * second)
        #expect(c.scaleDownQuietPeriod == 600 * second && c.scaleDownObservationWindow == 300 * second)
        #expect(c.demandSmoothing == 0.3 && c.loadHalfLife == 5 * second)
        #expect(c.crashLoad == 3.0 && c.crashSustain == 30 * second && c.downtime == 300 * second)
        #expect(c.baselineErrorRate == 0.005 && c.timeout == 1_500 * millisecond)
        #expect(c.model == .original && BackendConfiguration.realistic.model == .realistic)
        #expect(!c.keepReplicasAcrossCrash && BackendConfiguration.realistic.keepReplicasAcrossCrash)
        var realistic = BackendConfiguration.realistic
        realistic.model = .original
        realistic.keepReplicasAcrossCrash = false
        #expect(realistic == c)
    }

    @Test("Invalid configurations are rejected with the offending field named")
    func validation() {
        func rejected(_ field: String, _ change: (inout BackendConfiguration) -> Void) {
            var configuration = BackendConfiguration.realistic
            change(&configuration)
            #expect(throws: BackendConfigurationError.self) { try configuration.validated() }
            do {
                _ = try configuration.validated()
            } catch {
                #expect(error.field.hasPrefix(field), "expected \(field), got \(error)")
            }
            #expect(throws: BackendConfigurationError.self) {
                try Backend(configuration: configuration, scenario: S.calm, seed: 1)
            }
        }
        rejected("nominalReplicaThroughput") { $0.nominalReplicaThroughput = .nan }
        rejected("nominalReplicaThroughput") { $0.nominalReplicaThroughput = 0 }
        rejected("queueDepthPerReplica") { $0.queueDepthPerReplica = -1 }
        rejected("minimumReplicas") { $0.minimumReplicas = 0 }
        rejected("maximumReplicas") { $0.minimumReplicas = 4; $0.initialReplicas = 4; $0.maximumReplicas = 3 }
        rejected("initialReplicas") { $0.initialReplicas = 9 }
        rejected("slotsPerReplica") { $0.slotsPerReplica = 0 }
        rejected("maximumReplicas") { $0.maximumReplicas = 1_000_000; $0.queueDepthPerReplica = 100 }
        rejected("targetUtilisation") { $0.targetUtilisation = 1.5 }
        rejected("targetUtilisation") { $0.targetUtilisation = .infinity }
        rejected("evaluationInterval") { $0.evaluationInterval = 0 }
        rejected("provisioningLag") { $0.provisioningLag = -1 }
        rejected("downtime") { $0.downtime = -5 }
        rejected("demandSmoothing") { $0.demandSmoothing = 0 }
        rejected("loadHalfLife") { $0.loadHalfLife = 0 }
        rejected("degradation") { $0.degradation.points = [] }
        rejected("degradation.points[1]") { $0.degradation.points[1].load = 0.8 }
        rejected("degradation.points[2]") { $0.degradation.points[2].errorProbability = 1.2 }
        rejected("degradation.points[0]") { $0.degradation.points[0].latencyMultiplier = 0.5 }
        rejected("crashLoad") { $0.crashLoad = .nan }
        rejected("baselineErrorRate") { $0.baselineErrorRate = -0.1 }
        rejected("incidentErrorRate") { $0.incidentErrorRate = 2 }
        rejected("timeout") { $0.timeout = 0 }
        #expect(throws: Never.self) { try BackendConfiguration.original.validated() }
    }

    @Test("Worker slots by Little's law: ceil(150 rps × 67.65 ms) = 11 per replica, as the original")
    func littlesLaw() throws {
        let cyberMonday = try Backend(configuration: .original, scenario: .cyberMonday, seed: 1)
        #expect(cyberMonday.slotsPerReplica == 11 && cyberMonday.totalSlots == 11)
        // An incident first phase is sized on the healthy phase it borrows from.
        let incidentFirst = S.scenario([S.phase(seconds: 60, errorRate: 0.5, p50: 400, p99: 900), S.phase(seconds: 60)])
        #expect(try Backend(configuration: .realistic, scenario: incidentFirst, seed: 1).slotsPerReplica == 11)
        // Twice the mean service time needs twice the slots (p50 100, p99 300: mean ≈ 126 ms → 19).
        let slow = S.scenario([S.phase(seconds: 60, p50: 100, p99: 300)])
        let expected = Int((150 * slow.phases[0].meanLatencyMilliseconds / 1000).rounded(.up))
        #expect(try Backend(configuration: .realistic, scenario: slow, seed: 1).slotsPerReplica == expected)
        var fixed = BackendConfiguration.realistic
        fixed.slotsPerReplica = 3
        fixed.initialReplicas = 2
        #expect(try Backend(configuration: fixed, scenario: slow, seed: 1).totalSlots == 6)
    }

    @Test("The queue is FIFO over the slots; a full queue sheds fast or at the timeout, by the switch")
    func queueAndShedding() throws {
        let phase = S.calm.phases[0]
        for fastReject in [true, false] {
            var model = BackendModel.realistic
            model.fastRejectWhenQueueFull = fastReject
            let seed: UInt64 = 42
            var backend = try Backend(configuration: S.quiet(model, slots: 1, queueDepth: 2), scenario: S.calm, seed: seed)
            let completions = S.run(&backend, (1...4).map { (0, UInt64($0)) }, until: 10 * second)
            let service = (1...3).map { S.serviceTime(id: UInt64($0), seed: seed, phase: phase) }
            let byID = Dictionary(uniqueKeysWithValues: completions.map { ($0.id, $0) })
            // One slot: request 1 is served at once, 2 and 3 wait in order behind it.
            #expect(byID[1]?.completedAt == service[0] && byID[1]?.cause == .success)
            #expect(byID[2]?.completedAt == service[0] + service[1] && byID[2]?.cause == .success)
            #expect(byID[3]?.completedAt == service[0] + service[1] + service[2] && byID[3]?.cause == .success)
            #expect(byID[2]?.busyNanoseconds == service[1])
            // The queue (depth 2 × 1 replica) is full: request 4 is shed.
            #expect(byID[4]?.cause == .shed && byID[4]?.succeeded == false && byID[4]?.busyNanoseconds == 0)
            #expect(byID[4]?.completedAt == (fastReject ? millisecond : 1_500 * millisecond))
            #expect(backend.statistics.shed == 1 && backend.statistics.peakQueued == 2)
            // Completions are delivered in time order.
            #expect(completions.map(\.completedAt) == completions.map(\.completedAt).sorted())
        }
    }

    @Test("A request whose queue wait plus service reaches the timeout fails at the timeout and still uses its slot")
    func queueTimeout() throws {
        let seed: UInt64 = 7
        let phase = S.calm.phases[0]
        var backend = try Backend(configuration: S.quiet(slots: 1, queueDepth: 100), scenario: S.calm, seed: seed)
        let completions = S.run(&backend, (1...60).map { (0, UInt64($0)) }, until: 20 * second)
        #expect(completions.count == 60)
        var slotFree: Int64 = 0
        var timedOut = 0
        for completion in completions.sorted(by: { $0.id < $1.id }) {
            let service = S.serviceTime(id: completion.id, seed: seed, phase: phase)
            let finish = slotFree + service
            slotFree = finish
            #expect(completion.busyNanoseconds == service)
            if finish >= 1_500 * millisecond {
                timedOut += 1
                #expect(completion.cause == .queueTimeout && completion.completedAt == 1_500 * millisecond)
            } else {
                #expect(completion.cause == .success && completion.completedAt == finish)
            }
        }
        #expect(timedOut > 20)
        #expect(backend.statistics.queueDrops == timedOut)
        #expect(backend.statistics.busySlotNanoseconds == slotFree)
    }

    @Test("Degradation curve: the original's breakpoints, linear between them, flat outside")
    func degradationCurve() {
        let curve = DegradationCurve.original
        let expected: [(load: Double, multiplier: Double, error: Double)] = [
            (0, 1, 0), (0.8, 1, 0), (0.9, 1.25, 0), (1.0, 1.5, 0), (1.25, 2.25, 0.05), (1.5, 3, 0.10),
            (2.0, 6.5, 0.25), (2.5, 10, 0.40), (7, 10, 0.40),
        ]
        for point in expected {
            let values = curve.values(atLoad: point.load)
            #expect(abs(values.latencyMultiplier - point.multiplier) < 1e-12, "multiplier at \(point.load)")
            #expect(abs(values.errorProbability - point.error) < 1e-12, "error at \(point.load)")
        }
    }

    @Test("Overload raises latency and errors through the smoothed load")
    func overloadDegrades() throws {
        // Original model (slots held for the nominal time): 100 slots serve ~1,500 rps; at 2,000 rps
        // the queue (200) stays full, so the load sits at 3 and the curve at its top (×10, 40 %).
        var backend = try Backend(configuration: S.quiet(.original, slots: 100, queueDepth: 200), scenario: S.calm, seed: 3)
        let completions = S.run(&backend, S.steady(rate: 2000, from: 0, seconds: 40), until: 45 * second)
        #expect(backend.statistics.peakLoad > 2.9)
        let served = completions.filter { $0.submittedAt > 20 * second && ($0.cause == .success || $0.cause == .overloadError) }
        #expect(served.count > 20_000)
        // Every service takes at least 10 × p50/2 = 250 ms.
        #expect(served.allSatisfy { $0.latency >= 250 * millisecond })
        // 40 % overload errors: a binomial with n > 20,000 has σ < 0.0035; allow ±0.02 (> 5σ).
        let errorShare = Double(served.filter { $0.cause == .overloadError }.count) / Double(served.count)
        #expect(abs(errorShare - 0.40) < 0.02, "overload error share \(errorShare)")
        #expect(completions.contains { $0.cause == .shed })
    }

    /// Crash after the smoothed load stays ≥ 3 for 30 s; requests fail while down; restart after
    /// 300 s at minimum replicas.
    @Test(arguments: [BackendModel.original, .realistic])
    func crashAndRestart(model: BackendModel) throws {
        var configuration = S.quiet(model, replicas: 4, slots: 1, queueDepth: 10)
        configuration.minimumReplicas = 1
        configuration.crashLoad = 3.0
        var backend = try Backend(configuration: configuration, scenario: S.calm, seed: 11)
        var overloadedFrom: Int64?
        var crashedAt: Int64?
        var completions: [BackendCompletion] = []
        var id: UInt64 = 0
        // 1,000 rps on 4 slots of ~15 rps each: the queue fills and the load heads for 11.
        for t in stride(from: Int64(0), to: Int64(60) * second, by: Int(millisecond)) {
            while backend.nextCompletionTime <= t { completions.append(backend.popCompletion()) }
            backend.advance(to: t)
            if overloadedFrom == nil, backend.load >= 3 { overloadedFrom = t }
            if crashedAt == nil, backend.isCrashed { crashedAt = t }
            id += 1
            backend.submit(BackendRequest(id: id, tag: 0), at: t)
        }
        let start = try #require(overloadedFrom)
        let crash = try #require(crashedAt)
        #expect(crash >= start + 30 * second && crash <= start + 30 * second + millisecond)
        #expect(backend.statistics.crashes == 1)
        // While down everything fails at the timeout; the slots are frozen and the autoscaler too.
        backend.advance(to: crash + 200 * second)
        while backend.nextCompletionTime <= crash + 200 * second { completions.append(backend.popCompletion()) }
        #expect(backend.isCrashed && backend.replicas == 4)
        // Nothing admitted before the crash succeeds after it: pending successes were flipped.
        #expect(!completions.contains { $0.submittedAt < crash && $0.completedAt > crash && $0.succeeded })
        if model == .original {
            // Slots held for the nominal time leave successes in flight at the crash (with slowed
            // workers the full queue makes every pending request a queue timeout instead).
            #expect(completions.contains { $0.cause == .crashed && $0.submittedAt < crash })
        }
        #expect(completions.filter { $0.submittedAt >= crash }.allSatisfy { $0.cause == .crashed && $0.latency == 1_500 * millisecond })
        backend.advance(to: crash + 300 * second - 1)
        #expect(backend.isCrashed)
        backend.advance(to: crash + 300 * second)
        #expect(!backend.isCrashed && backend.replicas == 1 && backend.totalSlots == 1)
        #expect(backend.statistics.downtimeNanoseconds == 300 * second)
        // Counters agree with what was delivered.
        while backend.pendingCompletions > 0 { completions.append(backend.popCompletion()) }
        let statistics = backend.statistics
        #expect(statistics.requests == completions.count)
        #expect(statistics.successes == completions.filter(\.succeeded).count)
        #expect(statistics.crashFailures == completions.filter { $0.cause == .crashed }.count)
        #expect(statistics.successes + statistics.failures == statistics.requests)
        #expect(statistics.busySlotNanoseconds == completions.reduce(0) { $0 + $1.busyNanoseconds })
    }

    @Test("With keepReplicasAcrossCrash the fleet restarts at the size it crashed with")
    func keepReplicasAcrossCrash() throws {
        var configuration = S.quiet(.original, replicas: 3, slots: 1, queueDepth: 10)
        configuration.minimumReplicas = 1
        configuration.crashLoad = 3.0
        configuration.keepReplicasAcrossCrash = true
        var backend = try Backend(configuration: configuration, scenario: S.calm, seed: 4)
        _ = S.run(&backend, S.steady(rate: 1000, from: 0, seconds: 60), until: 61 * second)
        #expect(backend.isCrashed && backend.statistics.crashes == 1)
        backend.advance(to: 400 * second)
        #expect(!backend.isCrashed && backend.replicas == 3 && backend.totalSlots == 3 && backend.load == 0)
    }

    @Test("No crash when the queue cannot hold enough work to reach the crash load")
    func crashNeedsQueueRoom() throws {
        // Maximum load is 1 + depth / slots = 1 + 10/11 < 3, as in the original's QD-10 sweep.
        var configuration = S.quiet(queueDepth: 10)
        configuration.crashLoad = 3.0
        var backend = try Backend(configuration: configuration, scenario: S.calm, seed: 2)
        _ = S.run(&backend, S.steady(rate: 2000, from: 0, seconds: 60), until: 70 * second)
        #expect(backend.statistics.crashes == 0 && backend.statistics.peakLoad < 1 + 10.0 / 11 + 1e-9)
        #expect(backend.statistics.shed > 50_000)
    }
}
