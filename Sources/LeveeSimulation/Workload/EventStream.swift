/// One discrete event of an ``EventStream``: a request starting, or ending in success or failure.
public struct StreamEvent: Sendable, Hashable {
    public enum Kind: Sendable, Hashable {
        case start
        case success
        case failure
    }

    public var kind: Kind
    /// 1-based, in start order; a request's start and end share it.
    public var requestID: Int64
    /// When the event happens, in nanoseconds from the simulation start.
    public var time: Int64
    /// The request the event belongs to.
    public var request: GeneratedRequest

    public init(kind: Kind, requestID: Int64, time: Int64, request: GeneratedRequest) {
        self.kind = kind
        self.requestID = requestID
        self.time = time
        self.request = request
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
/// produced in small batches into a reused buffer, so iteration allocates nothing and
/// `next()` is usually a buffer read.
public struct EventStream: Sendable {
    /// How an end and a start at the same nanosecond, and equal ends, are ordered.
    public enum SimultaneousOrder: Sendable, Hashable {
        /// Every end at an instant comes before any start at that instant; ends at the same
        /// nanosecond come in start (request ID) order.
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

/// Holds started requests until they end and releases them in end-time order. Pushes happen
/// at each request's start, which is never earlier than an end already released.
protocol InFlightQueue {
    /// The earliest end time, `Int64.max` when empty.
    var minimumEnd: Int64 { get }
    mutating func push(_ request: InFlightRequest)
    /// Removes and returns the request that ends first; the queue must not be empty.
    mutating func popMinimum() -> InFlightRequest
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
    static let batchSize = 256
    static let arrivalBatchSize = 128

    let simultaneousOrder: EventStream.SimultaneousOrder
    private var generator: LoadGenerator
    /// Requests drawn from the generator ahead of time, the next one at `arrivalIndex`. Once the
    /// generator is exhausted, the slot after the last one holds an arrival at `Int64.max`, so
    /// the loops need no separate "any left?" test.
    private let arrivals: UnsafeMutablePointer<GeneratedRequest>
    private var arrivalIndex = 0
    private static let noMoreArrivals = GeneratedRequest(start: .max, duration: 0, isSuccess: true, phaseIndex: -1)
    // Both queues always exist (the unused one is tiny), so the hot loop has no optionals.
    private var calendar: CalendarQueue
    private var heap: GoBinaryHeap
    private var startedRequests: Int64 = 0
    private var lastEventTime: Int64 = .min
    /// The latest batch, read by the stream between refills.
    @usableFromInline let events: UnsafeMutablePointer<StreamEvent>

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
        events = .allocate(capacity: Self.batchSize)
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
        // Copies are only taken to produce a new batch, so the old one need not come along.
        events = .allocate(capacity: Self.batchSize)
    }

    deinit {
        calendar.deallocate()
        heap.deallocate()
        events.deallocate()
        arrivals.deallocate()
    }

    func copy() -> EventStreamEngine { EventStreamEngine(copying: self) }

    /// Fills `events` with the next events in order; returns how many (0 at the end).
    func produceBatch() -> Int {
        if simultaneousOrder == .goLoadgen {
            var queue = heap
            defer { heap = queue }
            return produceBatch(using: &queue, goLoadgenTies: true)
        }
        var queue = calendar
        defer { calendar = queue }
        return produceBatch(using: &queue, goLoadgenTies: false)
    }

    /// The merge of arrivals and ends. It works on local copies of the state so that the
    /// optimiser keeps them in registers (a class's stored properties would be reloaded around
    /// every call), and is specialised for each queue.
    @inline(__always)
    private func produceBatch<Queue: InFlightQueue>(using queue: inout Queue, goLoadgenTies: Bool) -> Int {
        var generator = self.generator
        var arrivalIndex = self.arrivalIndex
        var started = self.startedRequests
        var lastTime = self.lastEventTime
        var produced = 0
        while produced < Self.batchSize {
            // Both sides read Int64.max when exhausted, so one comparison usually decides. At
            // equal instants ends go first, except that Go emits a start before the ends at its
            // instant unless the previous event was already at that instant.
            let arrivalStart = arrivals[arrivalIndex].start
            let earliestEnd = queue.minimumEnd
            if arrivalStart < earliestEnd
                || (goLoadgenTies && arrivalStart == earliestEnd && arrivalStart != lastTime && arrivalStart != .max)
            {
                let arrival = arrivals[arrivalIndex]
                started &+= 1
                queue.push(
                    InFlightRequest(
                        requestID: started, start: arrival.start, end: arrival.start &+ arrival.duration,
                        phaseIndex: arrival.phaseIndex, isSuccess: arrival.isSuccess))
                events[produced] = StreamEvent(kind: .start, requestID: started, time: arrival.start, request: arrival)
                lastTime = arrival.start
                arrivalIndex &+= 1
                if arrivalIndex == Self.arrivalBatchSize {
                    Self.refillArrivals(arrivals, from: &generator)
                    arrivalIndex = 0
                }
            } else if earliestEnd != .max {
                let finished = queue.popMinimum()
                events[produced] = StreamEvent(
                    kind: finished.isSuccess ? .success : .failure, requestID: finished.requestID,
                    time: finished.end, request: finished.request)
                lastTime = finished.end
            } else {
                break
            }
            produced &+= 1
        }
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
