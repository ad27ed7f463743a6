import Benchmark
import Levee
import Synchronization

// The hot path of the core: admission plus release on explicit time (no clock), and the
// closure API with its two clock reads. Levees are created outside the measured region; the
// measured loops must not allocate (mallocCountTotal is expected to be 0).

let benchmarks: @Sendable () -> Void = {
    let configuration = Benchmark.Configuration(
        metrics: [.mallocCountTotal, .throughput, .wallClock],
        scalingFactor: .mega,
        maxDuration: .seconds(10),
        maxIterations: 30)
    let slo = try! SLO(successRate: 0.99, timeout: .milliseconds(100))

    Benchmark("acquire + release, explicit time, 1 thread", configuration: configuration) { benchmark in
        let levee = Levee(slo: slo)
        benchmark.startMeasurement()
        var instant: Int64 = 0
        for iteration in benchmark.scaledIterations {
            instant &+= 1_000
            if case .admitted(let permit) = try! levee.acquire(at: instant) {
                // One failure in 200: inside a 99 % SLO, so every call is admitted.
                try! levee.release(permit, outcome: iteration % 200 == 0 ? .failure : .success, at: instant &+ 500)
            }
        }
        benchmark.stopMeasurement()
        blackHole(levee.statistics.counters.admitted)
    }

    // The floor under the pair above: `acquire` and `release` each take the `Mutex` once, so this
    // is what the pair costs with no decision at all (a reference, not a Levee measurement).
    Benchmark("Mutex lock + unlock twice (the pair's locking alone)", configuration: configuration) { benchmark in
        let counter = Mutex<Int64>(0)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            counter.withLock { $0 &+= 1 }
            counter.withLock { $0 &+= 1 }
        }
        benchmark.stopMeasurement()
        blackHole(counter.withLock { $0 })
    }

    Benchmark("run {}, continuous clock, 1 task", configuration: configuration) { benchmark in
        let levee = Levee(slo: slo)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            blackHole(try! await levee.run { 1 })
        }
        benchmark.stopMeasurement()
    }

    // Explicit instants are one time line and must not go backwards, so concurrent callers use
    // the clock path, which serialises instants under the lock.
    Benchmark("run {}, continuous clock, 2 tasks on one Levee", configuration: configuration) { benchmark in
        let levee = Levee(slo: slo)
        let perTask = benchmark.scaledIterations.count / 2
        benchmark.startMeasurement()
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<2 {
                group.addTask {
                    for _ in 0..<perTask { blackHole(try! await levee.run { 1 }) }
                }
            }
        }
        benchmark.stopMeasurement()
    }
}
