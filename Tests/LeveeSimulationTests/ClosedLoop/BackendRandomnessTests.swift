import Testing
@testable import LeveeSimulation

@Suite("Closed-loop backend: common random numbers, phase-driven health, determinism")
struct BackendRandomnessTests {
    typealias S = BackendTestSupport
    let second = BackendTestSupport.second
    let millisecond = BackendTestSupport.millisecond

    @Test("CommonRandom draws are uniform and independent across purposes")
    func commonRandomUniform() {
        let count = 200_000
        var sum = 0.0
        var bothLow = 0
        for id in 0..<UInt64(count) {
            let latency = CommonRandom.uniform(seed: 3, id: id, purpose: .backendLatency)
            let error = CommonRandom.uniform(seed: 3, id: id, purpose: .backendHealthError)
            #expect(latency >= 0 && latency < 1)
            sum += latency
            if latency < 0.5 && error < 0.5 { bothLow += 1 }
        }
        // σ of the mean is 0.29/√n ≈ 0.00065; of the joint share √(0.1875/n) ≈ 0.001; allow ~6σ.
        #expect(abs(sum / Double(count) - 0.5) < 0.004)
        #expect(abs(Double(bothLow) / Double(count) - 0.25) < 0.006)
        #expect(CommonRandom.bits(seed: 3, id: 1, purpose: .backendLatency) != CommonRandom.bits(seed: 4, id: 1, purpose: .backendLatency))
    }

    /// Submits 20 rps for 100 s (ids 1...2000), or only the even ids when `evenOnly`.
    func lightLoad(_ model: BackendModel, evenOnly: Bool) throws -> [UInt64: BackendCompletion] {
        let scenario = S.scenario([S.phase(seconds: 200, errorRate: 0.05)])
        var backend = try Backend(configuration: BackendConfiguration(model: model), scenario: scenario, seed: 77)
        let submissions = S.steady(rate: 20, from: 0, seconds: 100).filter { !evenOnly || $0.id % 2 == 0 }
        let completions = S.run(&backend, submissions, until: 150 * second)
        #expect(completions.count == submissions.count)
        return Dictionary(uniqueKeysWithValues: completions.map { ($0.id, $0) })
    }

    @Test("With common random numbers a request's service time and errors do not depend on what else was admitted")
    func commonRandomNumbers() throws {
        let all = try lightLoad(.realistic, evenOnly: false)
        let some = try lightLoad(.realistic, evenOnly: true)
        for (id, completion) in some {
            let other = try #require(all[id])
            #expect(other.latency == completion.latency && other.cause == completion.cause && other.busyNanoseconds == completion.busyNanoseconds)
        }
        #expect(some.values.contains { $0.cause == .dependencyError })
        // The original's sequential stream gives the same ids different draws once the sequence shifts.
        let sequentialAll = try lightLoad(.original, evenOnly: false)
        let sequentialSome = try lightLoad(.original, evenOnly: true)
        let differing = sequentialSome.filter { sequentialAll[$0.key]?.latency != $0.value.latency }.count
        #expect(differing > sequentialSome.count * 9 / 10)
    }

    /// 30 s healthy, 60 s incident (30 % errors, p50 500 ms), 60 s healthy; 100 rps on ample slots.
    func incident(phaseDrivesHealth: Bool) throws -> [BackendCompletion] {
        let scenario = S.scenario([
            S.phase(seconds: 30, errorRate: 0.005),
            S.phase(seconds: 60, errorRate: 0.3, p50: 500, p99: 1200),
            S.phase(seconds: 60, errorRate: 0.005),
        ])
        var model = BackendModel.original
        model.phaseDrivesHealth = phaseDrivesHealth
        var configuration = S.quiet(model, slots: 200)
        configuration.baselineErrorRate = 0.005
        var backend = try Backend(configuration: configuration, scenario: scenario, seed: 13)
        let completions = S.run(&backend, S.steady(rate: 100, from: 0, seconds: 150), until: 160 * second)
        #expect(backend.statistics.peakLoad < 0.8)  // no overload effects
        return completions.filter { $0.submittedAt >= 30 * second && $0.submittedAt < 90 * second }
    }

    func median(_ values: [Int64]) -> Int64 { values.sorted()[values.count / 2] }

    @Test("Phase-driven health: an incident's error rate and latency are the backend's own; off, they are not")
    func phaseDrivesHealth() throws {
        let driven = try incident(phaseDrivesHealth: true)
        #expect(driven.count == 6000)
        // Binomial(6000, 0.3): σ ≈ 0.0059; allow ±0.025 (> 4σ).
        let share = Double(driven.filter { $0.cause == .dependencyError }.count) / Double(driven.count)
        #expect(abs(share - 0.3) < 0.025, "dependency error share \(share)")
        #expect(!driven.contains { $0.cause == .baselineError })
        // The median service time is the phase's 500 ms (sample median of 6,000: within a few %).
        let drivenMedian = median(driven.map(\.latency))
        #expect(drivenMedian > 470 * millisecond && drivenMedian < 530 * millisecond)

        let scripted = try incident(phaseDrivesHealth: false)
        #expect(!scripted.contains { $0.cause == .dependencyError })
        // Only the 0.5 % baseline (Binomial σ ≈ 0.0009) and the next healthy phase's 50 ms median.
        let baseline = Double(scripted.filter { $0.cause == .baselineError }.count) / Double(scripted.count)
        #expect(baseline < 0.01)
        let scriptedMedian = median(scripted.map(\.latency))
        #expect(scriptedMedian > 45 * millisecond && scriptedMedian < 55 * millisecond)
    }

    @Test("The original's baseline error factor d(hour) follows the Cyber Monday clock")
    func hourlyFactor() {
        let hour: Int64 = 3_600_000_000_000
        let expected: [(Int64, Double)] = [(0, 1), (4, 1), (14, 1), (15, 1.0625), (21, 1.4375), (22, 1.5), (23, 1.8), (27, 3.0), (40, 3.0)]
        for (scenarioHour, factor) in expected {
            #expect(abs(Backend.cyberMondayDegradation(atScenarioNanoseconds: scenarioHour * hour) - factor) < 1e-12)
        }
    }

    /// An overloaded, autoscaling run: 40 s of 1,500 rps on the default fleet.
    func overloaded(_ configuration: BackendConfiguration, seed: UInt64) throws -> ([BackendCompletion], BackendStatistics) {
        var backend = try Backend(configuration: configuration, scenario: S.calm, seed: seed)
        let completions = S.run(&backend, S.steady(rate: 1500, from: 0, seconds: 40), until: 45 * second)
        return (completions, backend.statistics)
    }

    @Test("A seed determines the run exactly; another seed changes it", arguments: [BackendConfiguration.original, .realistic])
    func determinism(configuration: BackendConfiguration) throws {
        let first = try overloaded(configuration, seed: 1)
        let again = try overloaded(configuration, seed: 1)
        #expect(first.0 == again.0 && first.1 == again.1)
        #expect(first.1.scaleUps > 0 && first.1.shed > 0)
        let other = try overloaded(configuration, seed: 2)
        #expect(other.0 != first.0)
    }
}
