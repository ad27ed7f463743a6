import Benchmark
import LeveeSimulation

// Each sample draws one million events (or requests) from a stream that persists across
// samples, so samples walk through the Cyber Monday scenario instead of replaying its quiet
// first phase. Building a stream allocates; that happens outside the measured region, so
// `mallocCountTotal` counts the per-event allocations only (expected: 0).
//
// The stream is a variable captured by the benchmark's closure, and every access to a captured
// variable is checked for exclusivity at run time. The measured loops therefore take it
// `inout`, once per sample: called per event, those checks cost about as much as the stream.

/// One sample: draws `benchmark.scaledIterations.count` elements from `source` and folds them
/// into a checksum, the least work that still reads them. The source is accessed once, for the
/// whole loop. At the end of the scenario (113 M events per pass, so rarely) it is rebuilt
/// outside the measurement and the sample starts over.
@inline(__always)
func drainSample<Source, Element>(
    _ source: inout Source, _ benchmark: Benchmark, rebuild: () -> Source,
    next: (inout Source) -> Element?, fold: (Element) -> Int64
) {
    func drain() -> Int64? {
        var checksum: Int64 = 0
        for _ in benchmark.scaledIterations {
            guard let element = next(&source) else { return nil }
            checksum &+= fold(element)
        }
        return checksum
    }
    if let checksum = drain() {
        blackHole(checksum)
        return
    }
    benchmark.stopMeasurement()
    source = rebuild()
    benchmark.startMeasurement()
    blackHole(drain())
}

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
            drainSample(&stream, benchmark, rebuild: makeStream, next: { $0.next() }, fold: { $0.time ^ $0.requestID })
        }
    }

    for mode in GeneratorMode.allCases {
        func makeGenerator() -> LoadGenerator {
            LoadGenerator(scenario: .cyberMonday, seed: 20_241_225, mode: mode)
        }
        var generator = makeGenerator()
        Benchmark("LoadGenerator.next, Cyber Monday, \(mode)", configuration: configuration) { benchmark in
            drainSample(&generator, benchmark, rebuild: makeGenerator, next: { $0.next() }, fold: { $0.start ^ $0.duration })
        }
    }
}
