import Testing
@testable import LeveeSimulation

/// Direct tests of the two in-flight queues, with tiny initial sizes so that every growth
/// path (pool, wheel, heap nodes, payload ring) runs.
@Suite("In-flight queues")
struct WorkloadInFlightQueueTests {
    /// Drives a queue the way the stream does: pushes happen at a start time no earlier than
    /// any end already popped; returns the popped (end, request ID) pairs in order.
    static func drive(
        seed: UInt64, steps: Int, maximumDuration: Int64,
        push: (InFlightRequest) -> Void, pop: () -> InFlightRequest, count: () -> Int
    ) -> (pushed: [InFlightRequest], popped: [InFlightRequest]) {
        var random = Xoshiro256PlusPlus(seed: seed)
        var now: Int64 = 0
        var nextID: Int64 = 1
        var pushed: [InFlightRequest] = []
        var popped: [InFlightRequest] = []
        for _ in 0..<steps {
            // Bursts of pushes build up a large backlog; durations repeat often to force ties.
            if count() == 0 || random.next() % 100 < 55 {
                now += Int64(random.next() % 3)
                let duration = Int64(random.next() % 4 == 0 ? random.next() % 8 : random.next() % UInt64(maximumDuration)) + 1
                let request = InFlightRequest(
                    requestID: nextID, start: now, end: now + duration, phaseIndex: Int32(nextID % 7),
                    isSuccess: nextID % 3 != 0)
                nextID += 1
                pushed.append(request)
                push(request)
            } else {
                let request = pop()
                now = max(now, request.end)
                popped.append(request)
            }
        }
        while count() > 0 { popped.append(pop()) }
        return (pushed, popped)
    }

    @Test("the calendar queue keeps every request's payload and grows when it must")
    func calendarOrder() {
        for seed in UInt64(1)...4 {
            // Sized for 16 requests of at most 100 ns; driven with thousands of requests of
            // up to 5,000 ns, so both the pool and the wheel have to grow.
            var queue = CalendarQueue(capacity: 16, maximumDuration: 100, peakRPM: 6_000_000_000)
            defer { queue.deallocate() }
            let (pushed, popped) = Self.drive(
                seed: seed, steps: 20_000, maximumDuration: 5_000,
                push: { queue.push($0) }, pop: { queue.popMinimum() }, count: { queue.count })
            #expect(popped.count == pushed.count)
            // Same requests, payload intact.
            let byID = Dictionary(uniqueKeysWithValues: pushed.map { ($0.requestID, $0) })
            for request in popped {
                let original = byID[request.requestID]
                #expect(original?.start == request.start && original?.end == request.end)
                #expect(original?.phaseIndex == request.phaseIndex && original?.isSuccess == request.isSuccess)
            }
        }
    }

    @Test("the calendar queue matches a sorted reference exactly")
    func calendarAgainstReference() {
        var queue = CalendarQueue(capacity: 16, maximumDuration: 100, peakRPM: 6_000_000_000)
        defer { queue.deallocate() }
        var reference: [InFlightRequest] = []
        var mismatches = 0
        _ = Self.drive(
            seed: 99, steps: 6_000, maximumDuration: 5_000,
            push: { request in
                queue.push(request)
                reference.append(request)
            },
            pop: {
                let actual = queue.popMinimum()
                let index = reference.indices.min { (reference[$0].end, reference[$0].requestID) < (reference[$1].end, reference[$1].requestID) }!
                let expected = reference.remove(at: index)
                if expected.requestID != actual.requestID { mismatches += 1 }
                return actual
            },
            count: { queue.count })
        #expect(mismatches == 0)
    }

    @Test("the Go heap matches a literal port of Go's container/heap, ties included, and grows")
    func goHeapAgainstReference() {
        var heap = GoBinaryHeap(capacity: 16)
        defer { heap.deallocate() }
        var reference: [(end: Int64, id: Int64)] = []
        func referencePush(_ item: (end: Int64, id: Int64)) {
            reference.append(item)
            var j = reference.count - 1
            while true {
                let i = (j - 1) / 2
                if i == j || !(reference[j].end < reference[i].end) { break }
                reference.swapAt(i, j)
                j = i
            }
        }
        func referencePop() -> (end: Int64, id: Int64) {
            let first = reference[0]
            reference[0] = reference[reference.count - 1]
            reference.removeLast()
            var i = 0
            while true {
                let j1 = 2 * i + 1
                if j1 >= reference.count { break }
                var j = j1
                if j1 + 1 < reference.count && reference[j1 + 1].end < reference[j1].end { j = j1 + 1 }
                if reference[i].end <= reference[j].end { break }
                reference.swapAt(i, j)
                i = j
            }
            return first
        }
        var mismatches = 0
        var ties = 0
        var lastEnd: Int64 = -1
        let (pushed, popped) = Self.drive(
            seed: 7, steps: 20_000, maximumDuration: 5_000,
            push: { request in
                heap.push(request)
                referencePush((request.end, request.requestID))
            },
            pop: {
                let actual = heap.popMinimum()
                let expected = referencePop()
                if expected.id != actual.requestID || expected.end != actual.end { mismatches += 1 }
                if actual.end == lastEnd { ties += 1 }
                lastEnd = actual.end
                return actual
            },
            count: { heap.count })
        #expect(mismatches == 0)
        #expect(ties > 100)
        #expect(popped.count == pushed.count)
    }
}
