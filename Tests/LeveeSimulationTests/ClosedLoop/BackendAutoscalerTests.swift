import Testing
@testable import LeveeSimulation

@Suite("Closed-loop backend: the HPA-like autoscaler")
struct BackendAutoscalerTests {
    typealias S = BackendTestSupport
    let second = BackendTestSupport.second

    /// Plays `submissions` and returns each instant the ready replica count changed (observed at
    /// the first submission at or after the change) with the new count.
    func replicaChanges(_ backend: inout Backend, _ submissions: [(at: Int64, id: UInt64)]) -> [(at: Int64, replicas: Int)] {
        var changes: [(at: Int64, replicas: Int)] = []
        var replicas = backend.replicas
        for submission in submissions {
            while backend.nextCompletionTime <= submission.at { _ = backend.popCompletion() }
            backend.advance(to: submission.at)
            if backend.replicas != replicas {
                replicas = backend.replicas
                changes.append((submission.at, replicas))
            }
            backend.submit(BackendRequest(id: submission.id, tag: 0), at: submission.at)
        }
        return changes
    }

    /// 400 rps for 100 s, then 50 rps until 700 s, evenly spaced.
    var stepDown: [(at: Int64, id: UInt64)] {
        S.steady(rate: 400, from: 0, seconds: 100) + S.steady(rate: 50, from: 100 * second, seconds: 600, firstID: 1_000_000)
    }

    func originalAutoscaling(quietPeriod: Int64) throws -> [(at: Int64, replicas: Int)] {
        var configuration = BackendConfiguration.original
        configuration.baselineErrorRate = 0
        configuration.crashLoad = 1e9
        configuration.scaleDownQuietPeriod = quietPeriod
        var backend = try Backend(configuration: configuration, scenario: S.calm, seed: 5)
        let changes = replicaChanges(&backend, stepDown)
        #expect(backend.statistics.scaleUps == 1 && backend.statistics.scaleDowns == 1)
        #expect(backend.statistics.peakReplicas == 4)
        return changes
    }

    @Test("Scale-up: decided at the first evaluation (15 s), ready after the provisioning lag (30 s); ceil(400 / (0.7 × 150)) = 4")
    func scaleUpAfterLag() throws {
        let changes = try originalAutoscaling(quietPeriod: 600 * second)
        let up = try #require(changes.first)
        #expect(up.replicas == 4)
        #expect(up.at >= 45 * second && up.at < 45 * second + 3_000_000)
    }

    @Test("Scale-down waits for the 600 s quiet period after the last scale-up")
    func scaleDownQuietPeriod() throws {
        // Demand drops at 100 s; samples are below 0.63 from 105 s, so the 300 s window is
        // satisfied at 405 s, but the scale-up decided at 15 s holds the fleet until 615 s.
        let changes = try originalAutoscaling(quietPeriod: 600 * second)
        #expect(changes.count == 2)
        let down = try #require(changes.last)
        #expect(down.replicas == 1)
        #expect(down.at >= 615 * second && down.at < 615 * second + 21_000_000)
    }

    @Test("Scale-down waits for a full observation window of low utilisation")
    func scaleDownObservationWindow() throws {
        let changes = try originalAutoscaling(quietPeriod: 0)
        let down = try #require(changes.last)
        #expect(down.replicas == 1)
        #expect(down.at >= 405 * second && down.at < 405 * second + 21_000_000)
    }

    /// A service slower than the original assumes (mean ≈ 220 ms instead of 67.65 ms): 60 rps
    /// keep ~13 of 11 slots busy, yet the assumed throughput says one replica is plenty.
    func slowService(busySlots: Bool, countQueued: Bool = false) throws -> Backend {
        let slow = S.scenario([S.phase(seconds: 600, p50: 200, p99: 400)])
        var model = BackendModel.original
        model.autoscalerSeesBusySlots = busySlots
        var configuration = BackendConfiguration(slotsPerReplica: 11, baselineErrorRate: 0, model: model)
        configuration.crashLoad = 1e9
        configuration.autoscalerCountsQueuedWork = countQueued
        var backend = try Backend(configuration: configuration, scenario: slow, seed: 9)
        _ = S.run(&backend, S.steady(rate: 60, from: 0, seconds: 120), until: 120 * second)
        return backend
    }

    @Test("Busy-slot autoscaler sees a saturated fleet that the assumed-throughput autoscaler misses")
    func busySlotsVersusAssumedThroughput() throws {
        let assumed = try slowService(busySlots: false)
        #expect(assumed.replicas == 1 && assumed.statistics.scaleUps == 0)
        #expect(assumed.lastUtilisation < 0.5)  // 60 / 150
        let measured = try slowService(busySlots: true)
        #expect(measured.replicas == 2 && measured.statistics.scaleUps == 1, "replicas \(measured.replicas), \(measured.statistics.scaleUps) scale-up(s)")
        // Two replicas carry ~13 busy slots of 22.
        #expect(measured.lastUtilisation > 0.5 && measured.lastUtilisation < 0.7)
        // Counting the queue too, the first decision sees ~61 requests in a saturated replica
        // (11 busy + 50 queued) and asks for ceil(61 / 7.7) = 8 replicas.
        let queued = try slowService(busySlots: true, countQueued: true)
        #expect(queued.statistics.peakReplicas == 8)
    }

    @Test("Busy-slot utilisation is the time-averaged busy fraction: 100 rps × 67.65 ms ÷ 11 slots ≈ 0.615")
    func busySlotUtilisation() throws {
        var model = BackendModel.original
        model.autoscalerSeesBusySlots = true
        var backend = try Backend(configuration: S.quiet(model, slots: 11), scenario: S.calm, seed: 21)
        let submissions = S.steady(rate: 100, from: 0, seconds: 150)
        var samples: [Double] = []
        for evaluation in 1...10 {
            let end = Int64(evaluation) * 15 * second
            let slice = submissions.filter { $0.at >= end - 15 * second && $0.at < end }
            _ = S.run(&backend, slice, until: end)
            samples.append(backend.lastUtilisation)
        }
        let expected = 100 * S.calm.phases[0].meanLatencyMilliseconds / 1000 / 11
        let mean = samples.reduce(0, +) / Double(samples.count)
        // 15,000 services with σ ≈ 85 ms: the mean's relative error is ~1.2 %; allow ±0.03 (~4σ).
        #expect(abs(mean - expected) < 0.03, "mean utilisation \(mean), expected \(expected)")
    }
}
