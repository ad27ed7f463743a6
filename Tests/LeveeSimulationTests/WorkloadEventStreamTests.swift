import Testing
@testable import LeveeSimulation

/// A literal port of the Go loadgen's `EventStream.Next` and its `container/heap` usage
/// (swap-based, as written in Go), used as an oracle for `.goLoadgen` ordering.
struct GoLoadgenReferenceStream {
    private struct Pending {
        var sequence: Int64
        var time: Int64
        var request: GeneratedRequest
    }

    private var generator: LoadGenerator
    private var heap: [Pending] = []
    private var currentTime: Int64 = .min  // Go starts at 0, before every Unix timestamp
    private var peeked: GeneratedRequest? = nil
    private var eventCount: Int64 = 0

    init(generator: LoadGenerator) { self.generator = generator }

    private mutating func push(_ pending: Pending) {
        heap.append(pending)
        var j = heap.count - 1
        while true {
            let i = (j - 1) / 2
            if i == j || !(heap[j].time < heap[i].time) { break }
            heap.swapAt(i, j)
            j = i
        }
    }

    private mutating func popEvent() -> Pending {
        let first = heap[0]
        heap[0] = heap[heap.count - 1]
        heap.removeLast()
        var i = 0
        let n = heap.count
        while true {
            let j1 = 2 * i + 1
            if j1 >= n { break }
            var j = j1
            if j1 + 1 < n && heap[j1 + 1].time < heap[j1].time { j = j1 + 1 }
            if heap[i].time <= heap[j].time { break }
            heap.swapAt(i, j)
            i = j
        }
        return first
    }

    mutating func next() -> StreamEvent? {
        while true {
            if let top = heap.first, top.time <= currentTime {
                let ended = popEvent()
                return StreamEvent(
                    kind: ended.request.isSuccess ? .success : .failure, requestID: ended.sequence,
                    request: ended.request)
            }
            if peeked == nil {
                peeked = generator.next()
                if peeked == nil {
                    guard let top = heap.first else { return nil }
                    currentTime = top.time
                    continue
                }
            }
            let arrival = peeked!
            currentTime = heap.first.map { min($0.time, arrival.start) } ?? arrival.start
            if arrival.start <= currentTime {
                eventCount += 1
                push(Pending(sequence: eventCount, time: arrival.start + arrival.duration, request: arrival))
                peeked = generator.next()
                return StreamEvent(kind: .start, requestID: eventCount, request: arrival)
            }
        }
    }
}

@Suite("Event stream")
struct WorkloadEventStreamTests {
    /// Nanosecond-scale latencies at a 10 ns mean gap: plenty of simultaneous events.
    static let crowded = try! Scenario(
        name: "crowded",
        phases: [
            Phase(durationSeconds: 0.002, rpm: 6_000_000_000, errorRate: 0.3, p50Milliseconds: 0.00002, p99Milliseconds: 0.00008, timeoutMilliseconds: 0.0002),
            Phase(durationSeconds: 0.001, rpm: 600_000_000, errorRate: 0.1, p50Milliseconds: 0.0001, p99Milliseconds: 0.0005, timeoutMilliseconds: 0.001),
        ])

    static let realistic = try! Scenario(
        name: "realistic",
        phases: [
            Phase(durationSeconds: 20, rpm: 60_000, errorRate: 0.05, p50Milliseconds: 50, p99Milliseconds: 150, timeoutMilliseconds: 1_500),
            Phase(durationSeconds: 10, rpm: 288_000, errorRate: 0.45, p50Milliseconds: 700, p99Milliseconds: 1_350, timeoutMilliseconds: 1_500),
            Phase(durationSeconds: 20, rpm: 6_000, errorRate: 0.005, p50Milliseconds: 50, p99Milliseconds: 150, timeoutMilliseconds: 1_500),
        ])

    /// Latencies under a nanosecond, truncated to zero: requests that end as they start.
    static let instantaneous = try! Scenario(
        name: "instantaneous",
        phases: [
            Phase(durationSeconds: 0.001, rpm: 6_000_000_000, errorRate: 0.2, p50Milliseconds: 0.0000004, p99Milliseconds: 0.0000009, timeoutMilliseconds: 0.000002),
        ])

    /// Bursts separated by idle phases, so the calendar has long empty stretches to skip.
    static let bursty = try! Scenario(
        name: "bursty",
        phases: [
            Phase(durationSeconds: 1, rpm: 600_000, errorRate: 0.1, p50Milliseconds: 5, p99Milliseconds: 40, timeoutMilliseconds: 100),
            Phase(durationSeconds: 30, rpm: 0, errorRate: 0, p50Milliseconds: 5, p99Milliseconds: 40, timeoutMilliseconds: 100),
            Phase(durationSeconds: 0.5, rpm: 60, errorRate: 0.5, p50Milliseconds: 900, p99Milliseconds: 2_000, timeoutMilliseconds: 9_000),
            Phase(durationSeconds: 2, rpm: 6_000_000, errorRate: 0.3, p50Milliseconds: 0.01, p99Milliseconds: 3, timeoutMilliseconds: 10),
        ])

    static func drain(_ stream: EventStream) -> [StreamEvent] {
        var stream = stream
        var events: [StreamEvent] = []
        while let event = stream.next() { events.append(event) }
        return events
    }

    static func stream(_ scenario: Scenario, seed: UInt64, order: EventStream.SimultaneousOrder, mode: GeneratorMode = .goCompatible) -> EventStream {
        EventStream(generator: LoadGenerator(scenario: scenario, seed: seed, mode: mode), scenario: scenario, simultaneousOrder: order)
    }

    @Test("an event's time is its request's start or end, and the request comes back whole")
    func eventDerivesItsTimeFromTheRequest() {
        let request = GeneratedRequest(start: 1_000, duration: 250, isSuccess: false, phaseIndex: 7)
        for kind in [StreamEvent.Kind.start, .success, .failure] {
            let event = StreamEvent(kind: kind, requestID: 42, request: request)
            #expect(event.time == (kind == .start ? 1_000 : 1_250))
            #expect(event.request == request)
            #expect(event.kind == kind && event.requestID == 42)
        }
        // A zero-duration request starts and ends at the same instant.
        let instant = GeneratedRequest(start: 5, duration: 0, isSuccess: true, phaseIndex: 0)
        #expect(StreamEvent(kind: .success, requestID: 1, request: instant).request == instant)
        #expect(StreamEvent(kind: .start, requestID: 1, request: instant).time == 5)
    }

    @Test("times never decrease and every start has exactly one matching end", arguments: [EventStream.SimultaneousOrder.endsFirst, .goLoadgen])
    func pairing(order: EventStream.SimultaneousOrder) {
        for scenario in [Self.crowded, Self.realistic] {
            let events = Self.drain(Self.stream(scenario, seed: 9, order: order))
            var starts: [Int64: GeneratedRequest] = [:]
            var ended: Set<Int64> = []
            var previousTime = Int64.min
            var nextID: Int64 = 1
            for event in events {
                #expect(event.time >= previousTime)
                previousTime = event.time
                switch event.kind {
                case .start:
                    #expect(event.requestID == nextID)
                    nextID += 1
                    #expect(event.time == event.request.start)
                    starts[event.requestID] = event.request
                case .success, .failure:
                    let request = starts[event.requestID]
                    #expect(request == event.request)
                    #expect(event.time == event.request.start + event.request.duration)
                    #expect((event.kind == .success) == event.request.isSuccess)
                    #expect(ended.insert(event.requestID).inserted)
                }
            }
            #expect(!starts.isEmpty)
            #expect(ended.count == starts.count)
            // The stream carries exactly the generator's requests.
            var generator = LoadGenerator(scenario: scenario, seed: 9)
            var generated: [GeneratedRequest] = []
            while let request = generator.next() { generated.append(request) }
            #expect(events.filter { $0.kind == .start }.map(\.request) == generated)
        }
    }

    @Test("ends first: ends precede starts at the same instant and equal ends leave in start order")
    func endsFirstOrder() {
        let events = Self.drain(Self.stream(Self.crowded, seed: 4, order: .endsFirst))
        // The whole order is the sort by (time, ends before starts, request ID).
        func key(_ event: StreamEvent) -> (Int64, Int, Int64) {
            (event.time, event.kind == .start ? 1 : 0, event.requestID)
        }
        let expected = events.sorted { key($0) < key($1) }
        #expect(events == expected)
        // And the scenario really does produce simultaneous events of both kinds.
        var simultaneousEndAndStart = 0
        var simultaneousEnds = 0
        for (previous, event) in zip(events, events.dropFirst()) where previous.time == event.time {
            if previous.kind != .start && event.kind == .start { simultaneousEndAndStart += 1 }
            if previous.kind != .start && event.kind != .start { simultaneousEnds += 1 }
        }
        #expect(simultaneousEndAndStart > 100)
        #expect(simultaneousEnds > 100)
    }

    @Test("ends first is exactly the generator's starts and ends sorted by (time, request ID, start before end)",
          arguments: [crowded, realistic, instantaneous, bursty])
    func endsFirstMatchesSortedReference(scenario: Scenario) {
        for seed in UInt64(1)...2 {
            var generator = LoadGenerator(scenario: scenario, seed: seed)
            var reference: [StreamEvent] = []
            var id: Int64 = 0
            while let request = generator.next() {
                id += 1
                reference.append(StreamEvent(kind: .start, requestID: id, request: request))
                reference.append(
                    StreamEvent(kind: request.isSuccess ? .success : .failure, requestID: id, request: request))
            }
            reference.sort { ($0.time, $0.requestID, $0.kind == .start ? 0 : 1) < ($1.time, $1.requestID, $1.kind == .start ? 0 : 1) }
            let events = Self.drain(Self.stream(scenario, seed: seed, order: .endsFirst))
            #expect(events.count == reference.count)
            // The first difference, not the whole arrays: a failure stays readable.
            let mismatch = zip(events, reference).enumerated().first { $0.element.0 != $0.element.1 }
            #expect(mismatch == nil, "event \(mismatch?.offset ?? -1) of \(scenario.name), seed \(seed)")
        }
        if scenario.name == "instantaneous" {
            // The case the key's last component exists for: a request that ends as it starts.
            let events = Self.drain(Self.stream(scenario, seed: 1, order: .endsFirst))
            let zero = events.filter { $0.kind == .start && $0.request.duration == 0 }.count
            #expect(zero > 1_000)
        }
    }

    @Test("Go order reproduces the Go loadgen's EventStream event for event")
    func goLoadgenOrderMatchesReference() {
        for (scenario, seed) in [(Self.crowded, UInt64(4)), (Self.crowded, 5), (Self.realistic, 6)] {
            let events = Self.drain(Self.stream(scenario, seed: seed, order: .goLoadgen))
            var reference = GoLoadgenReferenceStream(generator: LoadGenerator(scenario: scenario, seed: seed))
            var expected: [StreamEvent] = []
            while let event = reference.next() { expected.append(event) }
            #expect(events.count == expected.count)
            #expect(events == expected)
        }
        // The two orders differ only in how simultaneous events are arranged.
        let goOrder = Self.drain(Self.stream(Self.crowded, seed: 4, order: .goLoadgen))
        let endsFirst = Self.drain(Self.stream(Self.crowded, seed: 4, order: .endsFirst))
        #expect(goOrder != endsFirst)
        #expect(Set(goOrder) == Set(endsFirst))
    }

    @Test("a copied stream continues independently from the same point", arguments: [EventStream.SimultaneousOrder.endsFirst, .goLoadgen])
    func valueSemantics(order: EventStream.SimultaneousOrder) {
        var original = Self.stream(Self.realistic, seed: 8, order: order)
        for _ in 0..<12_345 { _ = original.next() }
        let copy = original
        let fromOriginal = Self.drain(original)
        #expect(Self.drain(copy) == fromOriginal)
        #expect(fromOriginal.count > 100_000)
    }

    @Test("the stream is deterministic per seed and mode")
    func determinism() {
        let a = Self.drain(Self.stream(Self.realistic, seed: 21, order: .endsFirst, mode: .fast))
        let b = Self.drain(Self.stream(Self.realistic, seed: 21, order: .endsFirst, mode: .fast))
        let c = Self.drain(Self.stream(Self.realistic, seed: 22, order: .endsFirst, mode: .fast))
        #expect(a == b)
        #expect(a != c)
    }

    @Test("a stream over a mismatched scenario still orders correctly (queues grow as needed)")
    func undersizedQueue() throws {
        let tiny = try Scenario(
            name: "tiny",
            phases: [Phase(durationSeconds: 1, rpm: 1, errorRate: 0, p50Milliseconds: 0.001, p99Milliseconds: 0.002, timeoutMilliseconds: 0.003)])
        for order in [EventStream.SimultaneousOrder.endsFirst, .goLoadgen] {
            let proper = Self.drain(Self.stream(Self.realistic, seed: 3, order: order))
            let mismatched = Self.drain(
                EventStream(generator: LoadGenerator(scenario: Self.realistic, seed: 3), scenario: tiny, simultaneousOrder: order))
            #expect(proper == mismatched)
        }
    }
}
