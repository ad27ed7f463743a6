import Levee

/// What a lane needs besides its candidate.
struct LaneContext: Sendable {
    var environment: CandidateEnvironment
    var descriptor: CandidateDescriptorReference
    /// Number of per-second buckets in the run's series.
    var secondCount: Int
}

/// The descriptor's identity, without the factory.
struct CandidateDescriptorReference: Sendable, Hashable {
    var identifier: String
    var displayName: String
}

/// Everything a lane measured for one candidate and one seed, before classification.
struct LaneOutcome: Sendable {
    var descriptor: CandidateDescriptorReference
    var allowed = 0
    var blocked = 0
    var goodBlocked = 0
    var badAllowed = 0
    var initialState: LeveeState.Kind
    var transitions: [CandidateTransition] = []
    var admittedPerSecond: [Int32]
    var badPerSecond: [Int32]
    var lostPerSecond: [Int32]
    var protocolErrors = 0
}

/// A lane behind two closures, so the run loop holds lanes of different candidate types without
/// existentials: the closures are made where the candidate type is concrete, so the per-event
/// loop they call is specialised for it (a protocol witness of a generic type would not be).
/// One indirect call per chunk, none per event.
struct LaneDriver {
    let process: (OpenLoopChunk) -> Void
    let finish: () -> LaneOutcome

    init<Candidate: BenchmarkCandidate>(_ lane: Lane<Candidate>) {
        let box = LaneBox(lane)
        process = { chunk in box.lane.process(chunk) }
        finish = { box.lane.finish() }
    }
}

private final class LaneBox<Candidate: BenchmarkCandidate> {
    var lane: Lane<Candidate>
    init(_ lane: Lane<Candidate>) { self.lane = lane }
}

/// Fixed per-lane tables, allocated once per run: one bit per slot and three counters per second.
/// Raw storage so the per-event loop pays no bounds or uniqueness checks.
final class LaneTables {
    let admittedBits: UnsafeMutablePointer<UInt64>
    let admittedPerSecond: UnsafeMutablePointer<Int32>
    let badPerSecond: UnsafeMutablePointer<Int32>
    let lostPerSecond: UnsafeMutablePointer<Int32>
    let slotCapacity: Int
    let wordCount: Int
    let secondCount: Int

    init(slotCapacity: Int, secondCount: Int) {
        self.slotCapacity = slotCapacity
        wordCount = (slotCapacity + 63) / 64
        self.secondCount = secondCount
        admittedBits = .allocate(capacity: wordCount)
        admittedBits.initialize(repeating: 0, count: wordCount)
        admittedPerSecond = .allocate(capacity: secondCount)
        admittedPerSecond.initialize(repeating: 0, count: secondCount)
        badPerSecond = .allocate(capacity: secondCount)
        badPerSecond.initialize(repeating: 0, count: secondCount)
        lostPerSecond = .allocate(capacity: secondCount)
        lostPerSecond.initialize(repeating: 0, count: secondCount)
    }

    deinit {
        admittedBits.deallocate()
        admittedPerSecond.deallocate()
        badPerSecond.deallocate()
        lostPerSecond.deallocate()
    }

    /// Marks `count` consecutive slots from `firstSlot` (wrapping at the slot capacity) admitted,
    /// a word at a time.
    func setAdmitted(firstSlot: Int, count: Int) {
        var slot = firstSlot
        var remaining = min(count, slotCapacity)
        while remaining > 0 {
            let bit = slot & 63
            let run = min(remaining, 64 - bit, slotCapacity - slot)
            let ones: UInt64 = run == 64 ? ~0 : (1 &<< UInt64(run)) &- 1
            admittedBits[slot &>> 6] |= ones &<< UInt64(bit)
            remaining -= run
            slot += run
            if slot == slotCapacity { slot = 0 }
        }
    }

    static func array(_ pointer: UnsafeMutablePointer<Int32>, count: Int) -> [Int32] {
        Array(UnsafeBufferPointer(start: pointer, count: count))
    }
}

/// One candidate's side of a run: its decisions, which requests it admitted, and its counters.
/// Generic over the candidate, so the per-event loop is specialised for it.
struct Lane<Candidate: BenchmarkCandidate> {
    private var candidate: Candidate
    private let tables: LaneTables
    private let descriptor: CandidateDescriptorReference
    private let initialState: LeveeState.Kind
    private var lastState: LeveeState.Kind
    private var counts = Counts()
    private var transitions: [CandidateTransition] = []

    /// The lane's running counts, copied into locals for the duration of a chunk.
    private struct Counts {
        var starts = 0
        var allowed = 0
        var goodBlocked = 0
        var badAllowed = 0
        /// The second being accumulated, and its counts so far.
        var second = 0
        var admittedThisSecond = 0
        var badThisSecond = 0
        var lostThisSecond = 0

        /// Adds the current second's counts to the tables and starts `next`.
        mutating func flush(into tables: LaneTables, next: Int) {
            tables.admittedPerSecond[second] &+= Int32(truncatingIfNeeded: admittedThisSecond)
            tables.badPerSecond[second] &+= Int32(truncatingIfNeeded: badThisSecond)
            tables.lostPerSecond[second] &+= Int32(truncatingIfNeeded: lostThisSecond)
            allowed &+= admittedThisSecond
            admittedThisSecond = 0
            badThisSecond = 0
            lostThisSecond = 0
            second = next
        }
    }

    init(candidate: Candidate, context: LaneContext) {
        self.candidate = candidate
        self.tables = LaneTables(slotCapacity: context.environment.slotCapacity, secondCount: max(1, context.secondCount))
        self.descriptor = context.descriptor
        self.initialState = candidate.reportedState
        self.lastState = initialState
    }

    /// Feeds a chunk's events (in time order) to the candidate and counts its decisions.
    ///
    /// A candidate that admits in bulk is fed a second of starts at a time. While it would admit
    /// the second's remaining starts in bulk (``BenchmarkCandidate/wouldAdmitInBulk(_:through:)``),
    /// only the ends among them are walked (through the chunk's index of ends) and the starts are
    /// admitted at once. Otherwise events go one by one until it would (a due tick or ping
    /// usually runs at the second's first arrival). The decisions, counts and transitions
    /// are exactly those of calling the candidate for every event; what is saved is, per start,
    /// a call and a branch on the event's kind that no predictor learns.
    mutating func process(_ chunk: OpenLoopChunk) {
        let events = chunk.events
        guard Candidate.admitsInBulk else {
            processOneByOne(events, from: 0, to: events.count)
            return
        }
        let groups = chunk.startGroups
        // Ends before the chunk's first start: no admission to decide.
        var nextEnd = processEnds(chunk, from: 0, before: groups.isEmpty ? events.count : Int(groups[0].firstPosition))
        for index in groups.indices {
            let group = groups[index]
            let positions = chunk.positions(ofGroup: index)
            let endsAfter = nextEnd + positions.count - Int(group.count)
            processGroup(chunk, group, positions: positions, firstEnd: nextEnd)
            nextEnd = endsAfter
        }
    }

    /// One second's starts and the ends among and after them, in segments: admitted in bulk
    /// while the candidate allows it, one by one while it does not.
    private mutating func processGroup(_ chunk: OpenLoopChunk, _ group: StartGroup, positions: Range<Int>, firstEnd: Int) {
        let events = chunk.events
        let lastStart = Int(group.lastPosition)
        let last = events[lastStart].time
        var position = positions.lowerBound
        var endIndex = firstEnd
        // The group's starts before `position`, and how many of them the oracle called OPEN.
        var startsDone = 0
        var openDone = 0
        while position <= lastStart {
            let remaining = Int(group.count) - startsDone
            guard candidate.wouldAdmitInBulk(remaining, through: last) else {
                let stop = processOneByOne(events, from: position, to: positions.upperBound, untilBulk: Int(group.count), through: last)
                if stop == positions.upperBound { return }
                let segment = Self.countStarts(events, position..<stop)
                startsDone += segment.count
                openDone += segment.open
                endIndex += stop - position - segment.count
                position = stop
                continue
            }
            // Every start from `position` on would be admitted: mark them all, then walk the ends
            // among them, asking again after each.
            let slotMask = tables.slotCapacity &- 1
            tables.setAdmitted(firstSlot: (Int(group.firstSlot) &+ startsDone) & slotMask, count: remaining)
            let (resume, nextEnd, stopped) = processEnds(chunk, from: endIndex, before: lastStart, whileAdmitting: remaining, through: last)
            if !stopped {
                countAdmittedStarts(second: Int(group.second), count: remaining, open: Int(group.openCount) - openDone)
                candidate.recordBulkAdmissions(remaining, through: last)
                // The ends after the second's last start: no admission left to decide.
                _ = processEnds(chunk, from: nextEnd, before: positions.upperBound)
                return
            }
            // The candidate stopped admitting in bulk at the end just before `resume`: the starts
            // before it were admitted in bulk; the next segment decides the rest (and rewrites
            // their bits).
            let segment = Self.countStarts(events, position..<resume)
            countAdmittedStarts(second: Int(group.second), count: segment.count, open: segment.open)
            if segment.count > 0 { candidate.recordBulkAdmissions(segment.count, through: segment.last) }
            startsDone += segment.count
            openDone += segment.open
            endIndex = nextEnd
            position = resume
        }
        // Only ends are left (the last start went one by one).
        _ = processEnds(chunk, from: endIndex, before: positions.upperBound)
    }

    /// The starts among `events[range]`: how many, how many while the oracle was OPEN, and the last one's time.
    private static func countStarts(
        _ events: UnsafeBufferPointer<OpenLoopEvent>, _ range: Range<Int>
    ) -> (count: Int, open: Int, last: Int64) {
        var count = 0
        var open = 0
        var last = Int64.min
        for event in events[range] where event.kind == .start {
            count &+= 1
            open &+= event.oracleOpenAtStart ? 1 : 0
            last = event.time
        }
        return (count, open, last)
    }

    /// Adds starts admitted in bulk to the per-second counts, as ``processOneByOne`` would have.
    private mutating func countAdmittedStarts(second: Int, count: Int, open: Int) {
        if second != counts.second { counts.flush(into: tables, next: second) }
        counts.starts &+= count
        counts.admittedThisSecond &+= count
        counts.badThisSecond &+= open
    }

    /// Processes the ends listed in the chunk's index from `first` on, while their positions are
    /// before `limit`; returns the index of the next end.
    private mutating func processEnds(_ chunk: OpenLoopChunk, from first: Int, before limit: Int) -> Int {
        walkEnds(chunk, from: first, before: limit) { _ in false }.nextEnd
    }

    /// The same, among `remaining` starts admitted in bulk through `bound`: stops after an end
    /// once the candidate would no longer admit them in bulk. Returns the position to resume
    /// at (`limit`, or the one after that end), the index of the next end, and whether it
    /// stopped early.
    private mutating func processEnds(
        _ chunk: OpenLoopChunk, from first: Int, before limit: Int, whileAdmitting remaining: Int, through bound: Int64
    ) -> (resume: Int, nextEnd: Int, stopped: Bool) {
        walkEnds(chunk, from: first, before: limit) { !$0.wouldAdmitInBulk(remaining, through: bound) }
    }

    /// The loop of both: inlined into each with its own stop test, which keeps the counters in
    /// registers (one function with an optional test kept them in memory: 14 more instructions
    /// per end).
    @inline(__always)
    private mutating func walkEnds(
        _ chunk: OpenLoopChunk, from first: Int, before limit: Int, stopAfter: (Candidate) -> Bool
    ) -> (resume: Int, nextEnd: Int, stopped: Bool) {
        let bits = tables.admittedBits
        var counts = self.counts
        var lastState = self.lastState
        defer {
            self.counts = counts
            self.lastState = lastState
        }
        var index = first
        while index < chunk.endPositions.count {
            let position = Int(chunk.endPositions[index])
            if position >= limit { break }
            index &+= 1
            processEnd(chunk.events[position], bits: bits, counts: &counts)
            noteState(at: chunk.events[position].time, lastState: &lastState)
            if stopAfter(candidate) { return (position + 1, index, true) }
        }
        return (limit, index, false)
    }

    /// Feeds the events at positions `first..<limit` to the candidate one by one.
    private mutating func processOneByOne(_ events: UnsafeBufferPointer<OpenLoopEvent>, from first: Int, to limit: Int) {
        _ = walkEvents(events, from: first, to: limit) { _ in false }
    }

    /// The same, but stops after an event once the candidate would admit `count` calls through
    /// `bound` in bulk; returns the position after it, or `limit`.
    private mutating func processOneByOne(
        _ events: UnsafeBufferPointer<OpenLoopEvent>, from first: Int, to limit: Int, untilBulk count: Int, through bound: Int64
    ) -> Int {
        walkEvents(events, from: first, to: limit) { $0.wouldAdmitInBulk(count, through: bound) }
    }

    /// The loop of both, inlined into each with its own stop test. Per-second counts accumulate
    /// in locals and are stored when a start opens a new second: adding to the tables on every
    /// event would chain each event on the previous store.
    @inline(__always)
    private mutating func walkEvents(
        _ events: UnsafeBufferPointer<OpenLoopEvent>, from first: Int, to limit: Int, stopAfter: (Candidate) -> Bool
    ) -> Int {
        let bits = tables.admittedBits
        var counts = self.counts
        var lastState = self.lastState
        defer {
            self.counts = counts
            self.lastState = lastState
        }
        var next = first
        for event in events[first..<limit] {
            next &+= 1
            processEvent(event, bits: bits, counts: &counts, lastState: &lastState)
            if stopAfter(candidate) { return next }
        }
        return limit
    }

    @inline(__always)
    private mutating func processEvent(
        _ event: OpenLoopEvent, bits: UnsafeMutablePointer<UInt64>, counts: inout Counts, lastState: inout LeveeState.Kind
    ) {
        if event.kind == .start {
            let slot = Int(event.slot)
            let word = slot &>> 6
            let bit: UInt64 = 1 &<< UInt64(slot & 63)
            let second = Int(event.second)
            if second != counts.second { counts.flush(into: tables, next: second) }
            counts.starts &+= 1
            if candidate.admit(slot: slot, at: event.time) {
                bits[word] |= bit
                counts.admittedThisSecond &+= 1
                if event.oracleOpenAtStart { counts.badThisSecond &+= 1 }
            } else {
                bits[word] &= ~bit
                if !event.oracleOpenAtStart { counts.lostThisSecond &+= 1 }
            }
        } else {
            processEnd(event, bits: bits, counts: &counts)
        }
        noteState(at: event.time, lastState: &lastState)
    }

    @inline(__always)
    private mutating func processEnd(_ event: OpenLoopEvent, bits: UnsafeMutablePointer<UInt64>, counts: inout Counts) {
        let slot = Int(event.slot)
        let succeeded = event.kind == .success
        if bits[slot &>> 6] & (1 &<< UInt64(slot & 63)) != 0 {
            candidate.complete(slot: slot, succeeded: succeeded, at: event.time)
            if !succeeded && event.oracleOpenAtStart { counts.badAllowed &+= 1 }
        } else if succeeded && !event.oracleOpenAtStart {
            counts.goodBlocked &+= 1
        }
    }

    @inline(__always)
    private mutating func noteState(at time: Int64, lastState: inout LeveeState.Kind) {
        let state = candidate.reportedState
        if state != lastState {
            transitions.append(CandidateTransition(time: time, from: lastState, to: state))
            lastState = state
        }
    }

    func finish() -> LaneOutcome {
        var counts = self.counts
        counts.flush(into: tables, next: counts.second)
        let seconds = tables.secondCount
        return LaneOutcome(
            descriptor: descriptor, allowed: counts.allowed, blocked: counts.starts - counts.allowed,
            goodBlocked: counts.goodBlocked, badAllowed: counts.badAllowed,
            initialState: initialState, transitions: transitions,
            admittedPerSecond: LaneTables.array(tables.admittedPerSecond, count: seconds),
            badPerSecond: LaneTables.array(tables.badPerSecond, count: seconds),
            lostPerSecond: LaneTables.array(tables.lostPerSecond, count: seconds),
            protocolErrors: candidate.protocolErrors)
    }
}
