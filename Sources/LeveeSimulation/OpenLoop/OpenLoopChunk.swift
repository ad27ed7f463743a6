/// The starts of one chunk that fall in one second (by ``OpenLoopEvent/second``): where they
/// are, how many, and what a lane admitting all of them at once must count.
struct StartGroup {
    /// Position in the chunk of the group's first start; the group's events run from there to
    /// the next group's first position (or the chunk's end), ends included.
    var firstPosition: Int32 = 0
    var count: Int32 = 0
    /// Starts while the oracle was OPEN.
    var openCount: Int32 = 0
    var second: UInt32 = 0
    /// The slot of the group's first start. Request IDs are consecutive in start order, so the
    /// group's slots are `count` consecutive slots from here, wrapping at the table size.
    var firstSlot: UInt32 = 0
    /// Position in the chunk of the group's last start.
    var lastPosition: Int32 = 0
}

/// A chunk of events as the lanes read it, with two indexes the feed builds once for every lane:
/// where the ends are, and the starts grouped by second. A lane whose candidate would admit
/// every arrival of a second (``BenchmarkCandidate/wouldAdmitInBulk(_:through:)``) walks only the
/// ends and admits the group's starts at once, with no branch per event on its kind.
struct OpenLoopChunk {
    var events: UnsafeBufferPointer<OpenLoopEvent>
    /// Positions in `events` of the end events, in order.
    var endPositions: UnsafeBufferPointer<Int32>
    /// The starts grouped by second, in order.
    var startGroups: UnsafeBufferPointer<StartGroup>

    /// The positions of `events` that group `index` covers: its starts and the ends among and
    /// after them, up to the next group. (Ends before the first group belong to none.)
    func positions(ofGroup index: Int) -> Range<Int> {
        let lower = Int(startGroups[index].firstPosition)
        let upper = index + 1 < startGroups.count ? Int(startGroups[index + 1].firstPosition) : events.count
        return lower..<upper
    }
}

/// Storage for one chunk, written by ``EventFeed/fill(_:)``, reused from chunk to chunk.
final class ChunkBuffer {
    let capacity: Int
    let events: UnsafeMutablePointer<OpenLoopEvent>
    let endPositions: UnsafeMutablePointer<Int32>
    let startGroups: UnsafeMutablePointer<StartGroup>
    private(set) var eventCount = 0
    private(set) var endCount = 0
    private(set) var startGroupCount = 0

    init(capacity: Int) {
        precondition(capacity > 0 && capacity <= Int(Int32.max), "a chunk holds 1 to Int32.max events")
        self.capacity = capacity
        events = .allocate(capacity: capacity)
        events.initialize(repeating: OpenLoopEvent(), count: capacity)
        endPositions = .allocate(capacity: capacity)
        endPositions.initialize(repeating: 0, count: capacity)
        startGroups = .allocate(capacity: capacity)
        startGroups.initialize(repeating: StartGroup(), count: capacity)
    }

    deinit {
        events.deallocate()
        endPositions.deallocate()
        startGroups.deallocate()
    }

    func setCounts(events: Int, ends: Int, startGroups: Int) {
        eventCount = events
        endCount = ends
        startGroupCount = startGroups
    }

    var chunk: OpenLoopChunk {
        OpenLoopChunk(
            events: UnsafeBufferPointer(start: events, count: eventCount),
            endPositions: UnsafeBufferPointer(start: endPositions, count: endCount),
            startGroups: UnsafeBufferPointer(start: startGroups, count: startGroupCount))
    }
}
