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
    let process: (UnsafeBufferPointer<OpenLoopEvent>) -> Void
    let finish: () -> LaneOutcome

    init<Candidate: BenchmarkCandidate>(_ lane: Lane<Candidate>) {
        let box = LaneBox(lane)
        process = { events in box.lane.process(events) }
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
    let wordCount: Int
    let secondCount: Int

    init(slotCapacity: Int, secondCount: Int) {
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

    /// Feeds the events (in time order) to the candidate and counts its decisions. The slots and
    /// seconds were bounded by the feed, which is what makes the unchecked table accesses safe.
    /// Per-second counts accumulate in locals and are stored when a start opens a new second:
    /// adding to the tables on every event would chain each event on the previous store.
    mutating func process(_ events: UnsafeBufferPointer<OpenLoopEvent>) {
        let bits = tables.admittedBits
        var counts = self.counts
        var lastState = self.lastState
        for event in events {
            let slot = Int(event.slot)
            let word = slot &>> 6
            let bit: UInt64 = 1 &<< UInt64(slot & 63)
            switch event.kind {
            case .start:
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
            case .success, .failure:
                let succeeded = event.kind == .success
                if bits[word] & bit != 0 {
                    candidate.complete(slot: slot, succeeded: succeeded, at: event.time)
                    if !succeeded && event.oracleOpenAtStart { counts.badAllowed &+= 1 }
                } else if succeeded && !event.oracleOpenAtStart {
                    counts.goodBlocked &+= 1
                }
            }
            let state = candidate.reportedState
            if state != lastState {
                transitions.append(CandidateTransition(time: event.time, from: lastState, to: state))
                lastState = state
            }
        }
        self.counts = counts
        self.lastState = lastState
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
