/// One discrete event of an ``EventStream``: a request starting, or ending in success or failure.
///
/// 32 bytes: the event's time and the request's duration are stored, and the request's start is
/// derived from them, so that every buffer an event passes through moves two thirds of what a
/// copy of both times and the whole request would.
public struct StreamEvent: Sendable, Hashable {
    public enum Kind: Sendable, Hashable {
        case start
        case success
        case failure
    }

    /// 1-based, in start order; a request's start and end share it.
    public let requestID: Int64
    /// When the event happens, in nanoseconds from the simulation start: the request's start for
    /// a `.start`, its end otherwise.
    public let time: Int64
    private let duration: Int64
    private let phaseIndex: Int32
    public let kind: Kind
    private let isSuccess: Bool

    /// The event of `kind` for `request`, at its start for `.start` and at its end otherwise.
    public init(kind: Kind, requestID: Int64, request: GeneratedRequest) {
        self.requestID = requestID
        time = kind == .start ? request.start : request.start &+ request.duration
        duration = request.duration
        phaseIndex = request.phaseIndex
        self.kind = kind
        isSuccess = request.isSuccess
    }

    /// The request the event belongs to.
    public var request: GeneratedRequest {
        GeneratedRequest(
            start: kind == .start ? time : time &- duration, duration: duration, isSuccess: isSuccess,
            phaseIndex: phaseIndex)
    }
}

/// Turns a ``LoadGenerator``'s requests into starts and ends in global time order.
///
/// Each request yields a `.start` at its arrival and a `.success` or `.failure` at
/// `start + duration`; times never decrease. The stream is a value: a copy continues
/// independently from the same point.
///
/// Ordering at equal instants follows ``SimultaneousOrder``: by default every end at an instant
/// comes before any start at it, and equal ends leave in start order.
///
/// Performance: in-flight requests wait in a calendar queue (or, for `.goLoadgen`, the Go
/// original's binary heap) pre-sized for the scenario's peak concurrency, and events are
/// produced in batches (ends first: whole calendar windows, merged without a branch per event)
/// into a reused buffer, so iteration allocates nothing and `next()` is usually a
/// buffer read.
public struct EventStream: Sendable {
    /// How an end and a start at the same nanosecond, and equal ends, are ordered.
    public enum SimultaneousOrder: Sendable, Hashable {
        /// Every end at an instant comes before any start at that instant; ends at the same
        /// nanosecond come in start (request ID) order. (A request of zero duration, which the
        /// generator produces only for sub-nanosecond latencies, still starts before it ends.)
        case endsFirst
        /// Exactly the Go loadgen's `EventStream.Next`: a start is emitted before the ends at its
        /// instant unless the previous event was already at that instant (then the ends come
        /// first), and equal ends leave in the order of the Go original's binary heap. Use this
        /// to reproduce downstream numbers of the Go benchmark bit for bit.
        case goLoadgen
    }

    /// The ordering rule this stream applies.
    public var simultaneousOrder: SimultaneousOrder { engine.simultaneousOrder }

    @usableFromInline var engine: EventStreamEngine
    /// The next event to hand out from `engine.events`, and how many are there.
    @usableFromInline var position = 0
    @usableFromInline var available = 0

    /// - Parameters:
    ///   - generator: the request source, consumed by the stream.
    ///   - scenario: used (with the generator's own scenario) to size the in-flight queue for
    ///     the peak concurrency, so that it never grows mid-run.
    ///   - simultaneousOrder: ends first (the default) or the Go loadgen's order.
    public init(generator: LoadGenerator, scenario: Scenario, simultaneousOrder: SimultaneousOrder = .endsFirst) {
        engine = EventStreamEngine(generator: generator, scenario: scenario, simultaneousOrder: simultaneousOrder)
    }

    /// The next event, or `nil` when every request has started and ended.
    ///
    /// Inlinable: almost every call is a read from the current batch, which callers in other
    /// modules should not pay a function call for.
    @inlinable
    public mutating func next() -> StreamEvent? {
        if position == available {
            guard refill() else { return nil }
        }
        let event = engine.events[position]
        position &+= 1
        return event
    }

    @usableFromInline @inline(never)
    mutating func refill() -> Bool {
        if !isKnownUniquelyReferenced(&engine) { engine = engine.copy() }
        available = engine.produceBatch()
        position = 0
        return available > 0
    }
}

/// A request that has started and not yet ended.
struct InFlightRequest: Sendable {
    var requestID: Int64
    var start: Int64
    var end: Int64
    var phaseIndex: Int32
    var isSuccess: Bool

    var request: GeneratedRequest {
        GeneratedRequest(start: start, duration: end &- start, isSuccess: isSuccess, phaseIndex: phaseIndex)
    }
}

/// The mutable state of an ``EventStream``, shared between copies until one of them moves on
/// (copy-on-write). It owns the in-flight queue's buffers and the batch of produced events.
///
/// Only mutated through a uniquely referenced stream, which is what makes the unchecked
/// `Sendable` sound.
@usableFromInline
final class EventStreamEngine: @unchecked Sendable {
    /// Events per batch in the Go order.
    static let heapBatchSize = 256
    /// Ends first: a batch gathers whole calendar windows until it holds at least this many
    /// events, enough to pay for the per-batch work, few enough that the three buffers a
    /// batch passes through stay in the first-level cache.
    static let windowBatchTarget = 128
    static let arrivalBatchSize = 128

    let simultaneousOrder: EventStream.SimultaneousOrder
    private var generator: LoadGenerator
    /// Requests drawn from the generator ahead of time, the next one at `arrivalIndex`. Once the
    /// generator is exhausted, the slot after the last one holds an arrival at `Int64.max`, so
    /// the loops need no separate "any left?" test.
    private let arrivals: UnsafeMutablePointer<GeneratedRequest>
    private var arrivalIndex = 0
    private static let noMoreArrivals = placeholder(at: .max)
    /// A request of no phase, starting and ending at `time`: the arrivals' end marker and the
    /// merge's sentinels.
    private static func placeholder(at time: Int64) -> GeneratedRequest {
        GeneratedRequest(start: time, duration: 0, isSuccess: true, phaseIndex: -1)
    }
    // Both queues always exist (the unused one is tiny), so the hot loops have no optionals.
    private var calendar: CalendarQueue
    private var heap: GoBinaryHeap
    private var startedRequests: Int64 = 0
    private var lastEventTime: Int64 = .min
    /// Ends first: a window's starts and ends, each in order, before they are merged.
    private var windowStarts: EventBuffer
    private var windowEnds: EventBuffer
    /// The latest batch, read by the stream between refills.
    private var batch: EventBuffer {
        didSet { events = batch.base }
    }
    /// `batch`'s memory, stored so that the stream's inlined `next()` reads it directly.
    /// Unchecked exclusivity: the stream reads it once per event, and a dynamic check there
    /// would cost more than the read.
    @exclusivity(unchecked) @usableFromInline private(set) var events: UnsafeMutablePointer<StreamEvent>

    init(generator: LoadGenerator, scenario: Scenario, simultaneousOrder: EventStream.SimultaneousOrder) {
        self.simultaneousOrder = simultaneousOrder
        self.generator = generator
        // Size from the generator's own scenario too, in case a different one was passed.
        let phases = scenario.phases + generator.scenario.phases
        let capacity = Self.peakConcurrencyBound(of: phases)
        let usesGoHeap = simultaneousOrder == .goLoadgen
        heap = GoBinaryHeap(capacity: usesGoHeap ? capacity : 0)
        calendar = CalendarQueue(
            capacity: usesGoHeap ? 0 : capacity,
            maximumDuration: usesGoHeap ? 0 : Int64((phases.map(\.timeoutMilliseconds).max() ?? 0) * 1e6) + 1,
            peakRPM: phases.map(\.rpm).max() ?? 0)
        // A batch holds `windowBatchTarget` events plus at most one window's (128–256 starts
        // at the peak rate, and about as many ends); room for twice that, so that only a
        // scenario wilder than it said grows the buffers.
        let windowCapacity = usesGoHeap ? 16 : 1_024
        windowStarts = EventBuffer(capacity: windowCapacity)
        windowEnds = EventBuffer(capacity: windowCapacity)
        batch = EventBuffer(capacity: usesGoHeap ? Self.heapBatchSize : 2 * windowCapacity)
        events = batch.base
        arrivals = .allocate(capacity: Self.arrivalBatchSize + 1)
        arrivals.initialize(repeating: Self.noMoreArrivals, count: Self.arrivalBatchSize + 1)
        Self.refillArrivals(arrivals, from: &self.generator)
    }

    /// Draws the next batch of arrivals, ending it with the sentinel when the generator runs out.
    private static func refillArrivals(
        _ arrivals: UnsafeMutablePointer<GeneratedRequest>, from generator: inout LoadGenerator
    ) {
        let count = generator.fill(arrivals, capacity: arrivalBatchSize)
        if count < arrivalBatchSize { arrivals[count] = noMoreArrivals }
    }

    private init(copying other: EventStreamEngine) {
        simultaneousOrder = other.simultaneousOrder
        generator = other.generator
        arrivals = .allocate(capacity: Self.arrivalBatchSize + 1)
        arrivals.initialize(from: other.arrivals, count: Self.arrivalBatchSize + 1)
        arrivalIndex = other.arrivalIndex
        calendar = other.calendar.copy()
        heap = other.heap.copy()
        startedRequests = other.startedRequests
        lastEventTime = other.lastEventTime
        // Copies are only taken to produce a new batch, so the old one need not come along;
        // the window buffers hold nothing between batches.
        windowStarts = EventBuffer(capacity: other.windowStarts.capacity)
        windowEnds = EventBuffer(capacity: other.windowEnds.capacity)
        batch = EventBuffer(capacity: other.batch.capacity)
        events = batch.base
    }

    deinit {
        calendar.deallocate()
        heap.deallocate()
        windowStarts.deallocate()
        windowEnds.deallocate()
        batch.deallocate()
        arrivals.deallocate()
    }

    func copy() -> EventStreamEngine { EventStreamEngine(copying: self) }

    /// Fills `events` with the next events in order; returns how many (0 at the end).
    func produceBatch() -> Int {
        simultaneousOrder == .goLoadgen ? produceHeapBatch() : produceWindows()
    }

    /// Takes the next arrival as request number `started + 1`: its start event and what the
    /// in-flight queue keeps of it. Draws the next batch of arrivals when this one is used up.
    @inline(__always)
    private func takeArrival(
        at arrivalIndex: inout Int, started: inout Int64, generator: inout LoadGenerator
    ) -> (start: StreamEvent, inFlight: InFlightRequest) {
        let arrival = arrivals[arrivalIndex]
        started &+= 1
        arrivalIndex &+= 1
        if arrivalIndex == Self.arrivalBatchSize {
            Self.refillArrivals(arrivals, from: &generator)
            arrivalIndex = 0
        }
        return (
            StreamEvent(kind: .start, requestID: started, request: arrival),
            InFlightRequest(
                requestID: started, start: arrival.start, end: arrival.start &+ arrival.duration,
                phaseIndex: arrival.phaseIndex, isSuccess: arrival.isSuccess)
        )
    }

    /// Ends first: the events of the next calendar windows, whole windows until there are at
    /// least `windowBatchTarget` (or the stream ends).
    ///
    /// Every start in a window is pushed before the window's ends are drained, so the drain
    /// sees the ends of requests that start and end inside it too; a request starting later
    /// cannot end earlier. The stream's order is the sort by (time, request ID, start before
    /// end): ends at an instant precede the starts of later requests at it, equal ends leave
    /// in start order, and a request of zero duration still starts before it ends. Both sides
    /// arrive sorted, so a merge gives that order, and it is written without a branch per
    /// event: whether the next event is a start or an end follows the traffic's random
    /// interleaving, which no branch predictor can learn.
    ///
    /// Works on local copies of the state so the optimiser keeps them in registers (a class's
    /// stored properties would be reloaded around every call).
    private func produceWindows() -> Int {
        var queue = calendar
        var generator = self.generator
        var arrivalIndex = self.arrivalIndex
        var started = self.startedRequests
        var starts = windowStarts
        var ends = windowEnds
        var batch = self.batch
        defer {
            calendar = queue
            self.generator = generator
            self.arrivalIndex = arrivalIndex
            self.startedRequests = started
            windowStarts = starts
            windowEnds = ends
            self.batch = batch
        }
        let windowShift = queue.windowShift
        let batchStart = queue.currentWindow &<< windowShift
        var startCount = 0
        var endCount = 0
        var windowEnd = batchStart
        while true {
            windowEnd = (queue.currentWindow &+ 1) &<< windowShift
            while arrivals[arrivalIndex].start < windowEnd {
                let (start, inFlight) = takeArrival(at: &arrivalIndex, started: &started, generator: &generator)
                queue.push(inFlight)
                // One slot stays free for the merge's sentinel.
                if startCount &+ 1 == starts.capacity { starts.grow(keeping: startCount) }
                starts.base[startCount] = start
                startCount &+= 1
            }
            endCount = queue.drainWindow(into: &ends, after: endCount)
            if startCount &+ endCount >= Self.windowBatchTarget { break }
            guard queue.skipEmptyWindows(nextStart: arrivals[arrivalIndex].start) else { break }
        }
        let total = startCount &+ endCount
        if total > 0 {
            if endCount == ends.capacity { ends.grow(keeping: endCount) }
            batch.reserve(total)
            Self.merge(
                starts: starts.base, count: startCount, ends: ends.base, count: endCount,
                earliest: batchStart, after: windowEnd, into: batch.base)
        }
        return total
    }

    /// Merges two sorted runs by (time, request ID, start before end). Every event lies in
    /// `[earliest, after)`; both runs need a writable slot before their first element
    /// and after their last, for sentinels.
    ///
    /// Two merges run at once, one taking the smallest remaining event from the front and one
    /// the largest from the back, each filling its half of the output: a branch-free merge is
    /// bound by the chain from one step's comparison to the next step's loads, and two
    /// independent chains get through twice as many events in the same time.
    @inline(__always)
    private static func merge(
        starts: UnsafeMutablePointer<StreamEvent>, count startCount: Int,
        ends: UnsafeMutablePointer<StreamEvent>, count endCount: Int,
        earliest: Int64, after: Int64,
        into output: UnsafeMutablePointer<StreamEvent>
    ) {
        // Sentinels just outside the batch's time span, so that no difference of two times
        // below can overflow.
        let last = StreamEvent(kind: .start, requestID: 0, request: placeholder(at: after))
        let first = StreamEvent(kind: .start, requestID: 0, request: placeholder(at: earliest &- 1))
        starts[startCount] = last
        ends[endCount] = last
        starts[-1] = first
        ends[-1] = first
        let total = startCount &+ endCount
        var frontStart = starts
        var frontEnd = ends
        var backStart = starts + (startCount &- 1)
        var backEnd = ends + (endCount &- 1)
        let size = MemoryLayout<StreamEvent>.stride

        // -1 if the end precedes the start, else 0: (end time, its ID) < (start time, its ID).
        // An end and a start share an ID only for a request of zero duration, whose start
        // comes first. Computed with shifts rather than comparisons: the optimiser turns a
        // choice between two pointers made from a comparison into a branch, and whether the
        // next event is a start or an end is a coin toss no predictor learns.
        @inline(__always)
        func endPrecedes(_ end: UnsafeMutablePointer<StreamEvent>, _ start: UnsafeMutablePointer<StreamEvent>) -> Int {
            let difference = Int(end.pointee.time &- start.pointee.time)
            let earlier = difference &>> 63
            let simultaneous = ~((difference | (0 &- difference)) &>> 63)
            let earlierID = Int(end.pointee.requestID &- start.pointee.requestID) &>> 63
            return earlier | (simultaneous & earlierID)
        }
        /// `a` where `mask` is -1, `b` where it is 0.
        @inline(__always)
        func choose(
            _ mask: Int, _ a: UnsafeMutablePointer<StreamEvent>, _ b: UnsafeMutablePointer<StreamEvent>
        ) -> UnsafeRawPointer {
            UnsafeRawPointer(b) + ((UnsafeRawPointer(a) - UnsafeRawPointer(b)) & mask)
        }
        let half = total &>> 1
        for index in 0..<half {
            let frontTakesEnd = endPrecedes(frontEnd, frontStart)
            UnsafeMutableRawPointer(output + index).copyMemory(
                from: choose(frontTakesEnd, frontEnd, frontStart), byteCount: size)
            frontEnd -= frontTakesEnd
            frontStart += 1 &+ frontTakesEnd

            let backTakesStart = endPrecedes(backEnd, backStart)
            UnsafeMutableRawPointer(output + (total &- 1 &- index)).copyMemory(
                from: choose(backTakesStart, backStart, backEnd), byteCount: size)
            backStart += backTakesStart
            backEnd -= 1 &+ backTakesStart
        }
        if total & 1 != 0 {
            // The middle event: whichever the front merge would take next.
            let takesEnd = endPrecedes(frontEnd, frontStart)
            UnsafeMutableRawPointer(output + half).copyMemory(from: choose(takesEnd, frontEnd, frontStart), byteCount: size)
        }
    }

    /// The Go order: the merge of arrivals and ends one event at a time, through the Go
    /// original's binary heap, whose arrangement decides the order of equal ends.
    private func produceHeapBatch() -> Int {
        var queue = heap
        var generator = self.generator
        var arrivalIndex = self.arrivalIndex
        var started = self.startedRequests
        var lastTime = self.lastEventTime
        let events = batch.base
        var produced = 0
        while produced < Self.heapBatchSize {
            // Both sides read Int64.max when exhausted, so one comparison usually decides. Go
            // emits a start before the ends at its instant unless the previous event was
            // already at that instant.
            let arrivalStart = arrivals[arrivalIndex].start
            let earliestEnd = queue.minimumEnd
            if arrivalStart < earliestEnd
                || (arrivalStart == earliestEnd && arrivalStart != lastTime && arrivalStart != .max)
            {
                let (start, inFlight) = takeArrival(at: &arrivalIndex, started: &started, generator: &generator)
                queue.push(inFlight)
                events[produced] = start
                lastTime = start.time
            } else if earliestEnd != .max {
                let finished = queue.popMinimum()
                events[produced] = StreamEvent(
                    kind: finished.isSuccess ? .success : .failure, requestID: finished.requestID,
                    request: finished.request)
                lastTime = finished.end
            } else {
                break
            }
            produced &+= 1
        }
        heap = queue
        self.generator = generator
        self.arrivalIndex = arrivalIndex
        self.startedRequests = started
        self.lastEventTime = lastTime
        return produced
    }

    /// Requests in flight can exceed the mean `rpm × timeout / 60000` by Poisson fluctuation;
    /// reserve eight standard deviations more so the queue never grows mid-run, within reason.
    static func peakConcurrencyBound(of phases: [Phase]) -> Int {
        var peak = 0.0
        for phase in phases {
            peak = max(peak, Double(phase.rpm) * (phase.timeoutMilliseconds / 60_000))
        }
        let bound = peak + 8 * peak.squareRoot() + 64
        return Int(min(bound, Double(1 << 22)))
    }
}
