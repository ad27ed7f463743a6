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

    /// Requests in start order for the calendar: bursts with frequent ties, and now and then
    /// a long idle gap, so that whole stretches of windows are empty.
    static func calendarRequests(seed: UInt64, count: Int, maximumDuration: Int64) -> [InFlightRequest] {
        var random = Xoshiro256PlusPlus(seed: seed)
        var now: Int64 = 0
        return (1...Int64(count)).map { id in
            now += random.next() % 200 == 0 ? 1_000_000 + Int64(random.next() % 1_000) : Int64(random.next() % 3)
            let duration = Int64(random.next() % 4 == 0 ? random.next() % 8 : random.next() % UInt64(maximumDuration))
            return InFlightRequest(
                requestID: id, start: now, end: now + duration, phaseIndex: Int32(id % 7), isSuccess: id % 3 != 0)
        }
    }

    /// Drives a calendar the way the stream does: before a window is drained, every request
    /// starting in it has been pushed; empty stretches are skipped. Returns the end events.
    static func drainCalendar(_ queue: inout CalendarQueue, requests: [InFlightRequest]) -> [StreamEvent] {
        var ends = EventBuffer(capacity: 16)
        defer { ends.deallocate() }
        var drained: [StreamEvent] = []
        var next = 0
        while next < requests.count || queue.count > 0 {
            let windowEnd = (queue.currentWindow + 1) << queue.windowShift
            while next < requests.count && requests[next].start < windowEnd {
                queue.push(requests[next])
                next += 1
            }
            let count = queue.drainWindow(into: &ends, after: 0)
            drained += (0..<count).map { ends.base[$0] }
            guard queue.skipEmptyWindows(nextStart: next < requests.count ? requests[next].start : .max) else { break }
        }
        return drained
    }

    @Test("the calendar queue drains every request in (end, request ID) order with its payload, and grows when it must")
    func calendarAgainstReference() {
        for seed in UInt64(1)...4 {
            // Sized for 16 requests of at most 100 ns; driven with thousands of requests of
            // up to 5,000 ns, so both the pool and the wheel have to grow.
            var queue = CalendarQueue(capacity: 16, maximumDuration: 100, peakRPM: 6_000_000_000)
            defer { queue.deallocate() }
            let requests = Self.calendarRequests(seed: seed, count: 20_000, maximumDuration: 5_000)
            let drained = Self.drainCalendar(&queue, requests: requests)
            let expected = requests.sorted { ($0.end, $0.requestID) < ($1.end, $1.requestID) }
            #expect(drained.map(\.requestID) == expected.map(\.requestID))
            #expect(drained.map(\.time) == expected.map(\.end))
            // The payload comes back intact.
            for (event, request) in zip(drained, expected) {
                #expect(event.kind == (request.isSuccess ? .success : .failure))
                #expect(event.request == request.request)
            }
            #expect(queue.count == 0)
            // Ties and skips really happened.
            #expect(zip(expected, expected.dropFirst()).filter { $0.end == $1.end }.count > 100)
            #expect(zip(requests, requests.dropFirst()).filter { $1.start - $0.start > 100_000 }.count > 50)
        }
    }

    @Test("a copied calendar queue drains independently of the original")
    func calendarCopy() {
        var queue = CalendarQueue(capacity: 16, maximumDuration: 5_000, peakRPM: 6_000_000_000)
        defer { queue.deallocate() }
        let requests = Self.calendarRequests(seed: 11, count: 3_000, maximumDuration: 5_000)
        // Requests pushed ahead of the window being filled are fine: they end no earlier.
        let boundary: Int64 = 64 << queue.windowShift
        for request in requests where request.start < boundary { queue.push(request) }
        var copy = queue.copy()
        defer { copy.deallocate() }
        let remaining = requests.filter { $0.start >= boundary }
        let fromOriginal = Self.drainCalendar(&queue, requests: remaining)
        #expect(fromOriginal.count == requests.count)
        #expect(Self.drainCalendar(&copy, requests: remaining) == fromOriginal)
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
