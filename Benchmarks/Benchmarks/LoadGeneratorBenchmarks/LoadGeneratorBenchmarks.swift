import Benchmark
import LeveeSimulation

// Each sample draws one million events (or requests) from a stream that persists across
// samples, so samples walk through the Cyber Monday scenario instead of replaying its quiet
// first phase. Building a stream allocates; that happens outside the measured region, so
// `mallocCountTotal` counts the per-event allocations only (expected: 0).

let benchmarks: @Sendable () -> Void = {
    let configuration = Benchmark.Configuration(
        metrics: [.mallocCountTotal, .throughput, .wallClock],
        scalingFactor: .mega,
        maxDuration: .seconds(10),
        maxIterations: 60)

    for (name, mode, order) in [
        ("EventStream.next, Cyber Monday, Go-compatible, ends first", GeneratorMode.goCompatible, EventStream.SimultaneousOrder.endsFirst),
        ("EventStream.next, Cyber Monday, Go-compatible, Go order", .goCompatible, .goLoadgen),
        ("EventStream.next, Cyber Monday, fast, ends first", .fast, .endsFirst),
    ] {
        func makeStream() -> EventStream {
            EventStream(
                generator: LoadGenerator(scenario: .cyberMonday, seed: 20_241_225, mode: mode),
                scenario: .cyberMonday, simultaneousOrder: order)
        }
        var stream = makeStream()
        Benchmark(name, configuration: configuration) { benchmark in
            // The consumer folds each event into a checksum, the least work that still reads it.
            var checksum: Int64 = 0
            for _ in benchmark.scaledIterations {
                guard let event = stream.next() else {
                    benchmark.stopMeasurement()
                    stream = makeStream()
                    benchmark.startMeasurement()
                    continue
                }
                checksum &+= event.time ^ event.requestID
            }
            blackHole(checksum)
        }
    }

    for mode in GeneratorMode.allCases {
        func makeGenerator() -> LoadGenerator {
            LoadGenerator(scenario: .cyberMonday, seed: 20_241_225, mode: mode)
        }
        var generator = makeGenerator()
        Benchmark("LoadGenerator.next, Cyber Monday, \(mode)", configuration: configuration) { benchmark in
            var checksum: Int64 = 0
            for _ in benchmark.scaledIterations {
                guard let request = generator.next() else {
                    benchmark.stopMeasurement()
                    generator = makeGenerator()
                    benchmark.startMeasurement()
                    continue
                }
                checksum &+= request.start ^ request.duration
            }
            blackHole(checksum)
        }
    }
}
