/// One stream event as the candidate lanes consume it: 24 bytes, everything precomputed once per
/// run so each lane does no division and no lookup per event.
struct OpenLoopEvent {
    enum Kind: UInt8 { case start, success, failure }

    /// Simulated time of the event, nanoseconds from the simulation start.
    var time: Int64 = 0
    /// The request's slot in every per-request table (its 1-based ID modulo the table size).
    var slot: UInt32 = 0
    /// For a start, the second of the request's start, clamped to the last bucket of the run's
    /// series; for an end, the second of the latest start (so per-second counters never move back).
    var second: UInt32 = 0
    var kind: Kind = .start
    /// Whether the oracle was OPEN at the request's start (for end events too).
    var oracleOpenAtStart = false
}

/// Turns a stream of ``StreamEvent``s into ``OpenLoopEvent`` chunks, tracks what every candidate
/// shares (offered load per second, the oracle, the Prescient counts) and checks that the fixed
/// per-request tables are never overrun.
struct EventFeed<Source: IteratorProtocol> where Source.Element == StreamEvent {
    private var source: Source
    private var oracle: PrescientOracle.Cursor
    private let tables: FeedTables
    private let slotMask: Int
    private let lastSecond: Int
    private var currentSecond = 0
    private var nextSecondStart: Int64 = 1_000_000_000

    private(set) var requestCount = 0
    private(set) var eventCount = 0
    /// Requests that started while the oracle was OPEN: the Prescient oracle's real blocked count.
    private(set) var requestsDuringIncidents = 0
    private(set) var firstEventTime: Int64?
    private(set) var lastEventTime: Int64 = 0
    /// Requests whose start fell after the last second of the series (counted in the last bucket).
    private(set) var clampedRequests = 0
    /// Successes of requests that started while the oracle was CLOSED, and failures of those that
    /// started while it was OPEN: with the per-second tables, what a ``FixedDecisionCandidate``'s
    /// outcome needs.
    private(set) var successesWhileClosed = 0
    private(set) var failuresWhileOpen = 0

    init(source: Source, oracle: PrescientOracle, slotCapacity: Int, secondCount: Int) {
        precondition(slotCapacity > 0 && slotCapacity & (slotCapacity - 1) == 0, "slot capacity must be a power of two")
        self.source = source
        self.oracle = PrescientOracle.Cursor(oracle: oracle)
        self.tables = FeedTables(slotCapacity: slotCapacity, secondCount: max(1, secondCount))
        self.slotMask = slotCapacity - 1
        self.lastSecond = max(1, secondCount) - 1
    }

    /// Requests started per second (the offered load).
    var offeredPerSecond: [Int32] {
        Array(UnsafeBufferPointer(start: tables.offeredPerSecond, count: tables.secondCount))
    }

    /// Requests started per second while the oracle was OPEN.
    var openStartsPerSecond: [Int32] {
        Array(UnsafeBufferPointer(start: tables.openStartsPerSecond, count: tables.secondCount))
    }

    /// The outcome of a candidate that decides every call the same way, as a lane would have
    /// counted it: every start admitted or every start rejected, never a transition.
    func outcome(of decision: FixedDecision, descriptor: CandidateDescriptorReference) -> LaneOutcome {
        let offered = offeredPerSecond
        let open = openStartsPerSecond
        let none = [Int32](repeating: 0, count: offered.count)
        if decision.admitsEveryCall {
            return LaneOutcome(
                descriptor: descriptor, allowed: requestCount, blocked: 0, goodBlocked: 0, badAllowed: failuresWhileOpen,
                initialState: decision.reportedState, admittedPerSecond: offered, badPerSecond: open, lostPerSecond: none)
        }
        return LaneOutcome(
            descriptor: descriptor, allowed: 0, blocked: requestCount, goodBlocked: successesWhileClosed, badAllowed: 0,
            initialState: decision.reportedState, admittedPerSecond: none, badPerSecond: none,
            lostPerSecond: zip(offered, open).map { $0 &- $1 })
    }

    /// Fills `buffer` from the start, with its index of ends and of starts by second; returns how
    /// many events were written (0 at the end).
    mutating func fill(_ buffer: ChunkBuffer) throws(OpenLoopError) -> Int {
        let slotStates = tables.slotStates
        let offered = tables.offeredPerSecond
        let openStarts = tables.openStartsPerSecond
        var index = ChunkIndexWriter(buffer)
        var written = 0
        defer {
            eventCount += written
            buffer.setCounts(events: written, ends: index.endCount, startGroups: index.finish())
        }
        if firstEventTime == nil, let event = source.next() {
            firstEventTime = event.time
            try prepare(event, at: 0, into: buffer.events, index: &index, slotStates: slotStates, offered: offered, openStarts: openStarts)
            written = 1
        }
        while written < buffer.capacity, let event = source.next() {
            try prepare(event, at: written, into: buffer.events, index: &index, slotStates: slotStates, offered: offered, openStarts: openStarts)
            written += 1
        }
        return written
    }

    @inline(__always)
    private mutating func prepare(
        _ event: StreamEvent, at position: Int, into events: UnsafeMutablePointer<OpenLoopEvent>,
        index: inout ChunkIndexWriter, slotStates: UnsafeMutablePointer<UInt8>,
        offered: UnsafeMutablePointer<Int32>, openStarts: UnsafeMutablePointer<Int32>
    ) throws(OpenLoopError) {
        let prepared = events + position
        let slot = Int(truncatingIfNeeded: event.requestID) & slotMask
        prepared.pointee.time = event.time
        prepared.pointee.slot = UInt32(truncatingIfNeeded: slot)
        lastEventTime = event.time
        switch event.kind {
        case .start:
            guard slotStates[slot] == 0 else {
                throw .inFlightOverrun(capacity: slotMask + 1, requestID: event.requestID, time: event.time)
            }
            guard event.time >= 0 else { throw .invalidEvent(requestID: event.requestID, time: event.time) }
            let open = oracle.advance(to: event.time)
            slotStates[slot] = open ? 3 : 1
            let second = second(of: event.time)
            prepared.pointee.kind = .start
            prepared.pointee.oracleOpenAtStart = open
            prepared.pointee.second = UInt32(truncatingIfNeeded: second)
            index.addStart(at: position, second: UInt32(truncatingIfNeeded: second),
                           slot: UInt32(truncatingIfNeeded: slot), open: open)
            offered[second] &+= 1
            requestCount &+= 1
            if open {
                openStarts[second] &+= 1
                requestsDuringIncidents &+= 1
            }
        case .success, .failure:
            let state = slotStates[slot]
            guard state != 0 else { throw .unmatchedCompletion(requestID: event.requestID, time: event.time) }
            slotStates[slot] = 0
            let succeeded = event.kind == .success
            // Arithmetic instead of branches: the outcome and the oracle's state are data.
            successesWhileClosed &+= Int(truncatingIfNeeded: (succeeded && state != 3) ? 1 : 0)
            failuresWhileOpen &+= Int(truncatingIfNeeded: (!succeeded && state == 3) ? 1 : 0)
            prepared.pointee.kind = succeeded ? .success : .failure
            // The latest start's second: ends never open a new second in the lanes (see `Lane.process`).
            prepared.pointee.second = UInt32(truncatingIfNeeded: min(currentSecond, lastSecond))
            prepared.pointee.oracleOpenAtStart = state == 3
            index.addEnd(at: position)
        }
    }

    /// The start second of a request; starts arrive in time order, so a division is only needed
    /// when a new second begins.
    @inline(__always)
    private mutating func second(of time: Int64) -> Int {
        if time >= nextSecondStart {
            let second = time / 1_000_000_000
            currentSecond = Int(second)
            nextSecondStart = (second + 1) * 1_000_000_000
        }
        if currentSecond > lastSecond {
            clampedRequests += 1
            return lastSecond
        }
        return currentSecond
    }
}

/// Builds a chunk's index of ends and of starts by second while the feed fills it. The group
/// being filled stays in a local until the next second begins.
private struct ChunkIndexWriter {
    let endPositions: UnsafeMutablePointer<Int32>
    let startGroups: UnsafeMutablePointer<StartGroup>
    private(set) var endCount = 0
    private var groupCount = 0
    /// The group being filled; none while its second is `UInt32.max`, which no start has
    /// (seconds are clamped to the series' last bucket).
    private var current = StartGroup(second: .max)

    init(_ buffer: ChunkBuffer) {
        endPositions = buffer.endPositions
        startGroups = buffer.startGroups
    }

    @inline(__always)
    mutating func addEnd(at position: Int) {
        endPositions[endCount] = Int32(truncatingIfNeeded: position)
        endCount &+= 1
    }

    @inline(__always)
    mutating func addStart(at position: Int, second: UInt32, slot: UInt32, open: Bool) {
        if current.second != second {
            if current.second != .max { startGroups[groupCount] = current; groupCount &+= 1 }
            current = StartGroup(firstPosition: Int32(truncatingIfNeeded: position), second: second, firstSlot: slot)
        }
        current.count &+= 1
        current.openCount &+= open ? 1 : 0
        current.lastPosition = Int32(truncatingIfNeeded: position)
    }

    /// Stores the last group; returns the number of groups.
    mutating func finish() -> Int {
        if current.second != .max { startGroups[groupCount] = current; groupCount &+= 1 }
        current = StartGroup(second: .max)
        return groupCount
    }
}

/// The feed's fixed tables: per slot, whether a request is in flight and the oracle's state at
/// its start; per second, the requests started, all of them and those while the oracle was OPEN.
final class FeedTables {
    let slotStates: UnsafeMutablePointer<UInt8>
    let offeredPerSecond: UnsafeMutablePointer<Int32>
    let openStartsPerSecond: UnsafeMutablePointer<Int32>
    let secondCount: Int
    private let slotCapacity: Int

    init(slotCapacity: Int, secondCount: Int) {
        self.slotCapacity = slotCapacity
        self.secondCount = secondCount
        slotStates = .allocate(capacity: slotCapacity)
        slotStates.initialize(repeating: 0, count: slotCapacity)
        offeredPerSecond = .allocate(capacity: secondCount)
        offeredPerSecond.initialize(repeating: 0, count: secondCount)
        openStartsPerSecond = .allocate(capacity: secondCount)
        openStartsPerSecond.initialize(repeating: 0, count: secondCount)
    }

    deinit {
        slotStates.deallocate()
        offeredPerSecond.deallocate()
        openStartsPerSecond.deallocate()
    }
}

/// Wraps an ``EventStream`` as an iterator for the feed.
struct StreamEventIterator: IteratorProtocol {
    var stream: EventStream
    mutating func next() -> StreamEvent? { stream.next() }
}
