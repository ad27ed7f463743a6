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

/// Draws up to `count` elements from `source` and folds them into a checksum, the least work
/// that still reads them; `nil` once the source is exhausted. The source is accessed once, for
/// the whole loop.
@inline(__always)
func drain<Source, Element>(
    _ source: inout Source, count: Int, next: (inout Source) -> Element?, fold: (Element) -> Int64
) -> Int64? {
    var checksum: Int64 = 0
    for _ in 0..<count {
        guard let element = next(&source) else { return nil }
        checksum &+= fold(element)
    }
    return checksum
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
            // The consumer folds each event into a checksum, the least work that still reads it.
            // At the end of the scenario the sample restarts it (rare: 113 M events per pass).
            let count = benchmark.scaledIterations.count
            let next = { (stream: inout EventStream) in stream.next() }
            let fold = { (event: StreamEvent) in event.time ^ event.requestID }
            if let checksum = drain(&stream, count: count, next: next, fold: fold) {
                blackHole(checksum)
            } else {
                benchmark.stopMeasurement()
                stream = makeStream()
                benchmark.startMeasurement()
                blackHole(drain(&stream, count: count, next: next, fold: fold))
            }
        }
    }

    for mode in GeneratorMode.allCases {
        func makeGenerator() -> LoadGenerator {
            LoadGenerator(scenario: .cyberMonday, seed: 20_241_225, mode: mode)
        }
        var generator = makeGenerator()
        Benchmark("LoadGenerator.next, Cyber Monday, \(mode)", configuration: configuration) { benchmark in
            let count = benchmark.scaledIterations.count
            let next = { (generator: inout LoadGenerator) in generator.next() }
            let fold = { (request: GeneratedRequest) in request.start ^ request.duration }
            if let checksum = drain(&generator, count: count, next: next, fold: fold) {
                blackHole(checksum)
            } else {
                benchmark.stopMeasurement()
                generator = makeGenerator()
                benchmark.startMeasurement()
                blackHole(drain(&generator, count: count, next: next, fold: fold))
            }
        }
    }
}
