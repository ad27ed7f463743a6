/// A calendar queue (a timing wheel) of in-flight requests, drained a window at a time: each
/// call hands back every request ending in one window, as end events in (end, request ID)
/// order, so simultaneous ends leave in start order.
///
/// End times are hashed into a ring of `2^k`-nanosecond buckets that spans more than the
/// longest request plus one window; a window is the 64 buckets of one word of the occupancy
/// bitmap. A push links the request into its bucket; a drain walks the window's occupied
/// buckets in order and sorts each bucket's few requests by insertion. Buckets are sized from
/// the peak arrival rate so each holds a few requests at peak and far fewer otherwise.
///
/// Draining whole windows, rather than popping one request at a time, is what lets
/// ``EventStreamEngine`` merge ends with starts without a branch per event (see
/// `produceWindows`).
///
/// Invariant: every request in the queue ends in a window at or after the one being filled,
/// less than one ring span after that window's first bucket. It holds because the stream
/// pushes each request while the window holding its start is being filled, and requests are
/// no longer than the `maximumDuration` given at creation (the ring grows if one is).
///
/// A plain struct over manually managed buffers: its owner (``EventStreamEngine``) copies it
/// with ``copy()`` when the stream is copied and frees it with ``deallocate()``.
struct CalendarQueue {
    /// 32 bytes, in a pool aligned to a cache line, so that no entry straddles two lines.
    struct Entry {
        var end: Int64
        var requestID: Int64
        var start: Int64
        /// The next entry in the same bucket, or -1.
        var next: Int32
        /// The phase index (never negative) in the low 31 bits, and the top bit set for a success.
        var phaseAndOutcome: UInt32

        var phaseIndex: Int32 { Int32(bitPattern: phaseAndOutcome & 0x7FFF_FFFF) }
        var isSuccess: Bool { phaseAndOutcome >= 0x8000_0000 }
    }

    /// Buckets per window: one word of the occupancy bitmap.
    static let bucketsPerWindow = 64

    private(set) var count = 0

    // Entry pool with a free-index stack.
    private var poolCapacity: Int
    private var poolUsed = 0
    private var entries: UnsafeMutablePointer<Entry>
    private var freeEntries: UnsafeMutablePointer<Int32>
    private var freeCount = 0

    // The wheel.
    /// log2 of a bucket's width in nanoseconds.
    let bucketShift: Int64
    /// log2 of a window's width in nanoseconds.
    var windowShift: Int64 { bucketShift &+ 6 }
    private var bucketCount: Int
    private var heads: UnsafeMutablePointer<Int32>
    private var occupied: UnsafeMutablePointer<UInt64>
    /// The window being filled: nothing in the queue ends before it.
    private var window: Int64 = 0

    init(capacity: Int, maximumDuration: Int64, peakRPM: Int) {
        poolCapacity = max(capacity, 16)
        entries = Self.allocateEntries(poolCapacity)
        freeEntries = .allocate(capacity: poolCapacity)

        // Two to four arrivals' worth of time per bucket at the peak rate, so a window holds
        // 128–256 starts at peak: enough to pay for the per-window work, few enough to stay
        // in the first-level cache.
        let meanGap = 60e9 / Double(max(peakRPM, 1))
        var shift = Int64(max(6, min(40, Int(meanGap.rounded()).bitWidthNeeded + 1)))
        var buckets = Self.bucketsToSpan(maximumDuration, shift: shift)
        while buckets > 1 << 20 {  // keep the wheel's memory bounded; wider buckets instead
            shift += 1
            buckets = Self.bucketsToSpan(maximumDuration, shift: shift)
        }
        bucketShift = shift
        bucketCount = buckets
        heads = .allocate(capacity: buckets)
        heads.initialize(repeating: -1, count: buckets)
        occupied = .allocate(capacity: buckets / 64)
        occupied.initialize(repeating: 0, count: buckets / 64)
    }

    func deallocate() {
        UnsafeMutableRawPointer(entries).deallocate()
        freeEntries.deallocate()
        heads.deallocate()
        occupied.deallocate()
    }

    private static func allocateEntries(_ capacity: Int) -> UnsafeMutablePointer<Entry> {
        UnsafeMutableRawPointer.allocate(byteCount: capacity * MemoryLayout<Entry>.stride, alignment: 64)
            .bindMemory(to: Entry.self, capacity: capacity)
    }

    /// A power of two, at least two windows, covering `duration` plus the window a request
    /// starts in and the partial bucket at its end.
    private static func bucketsToSpan(_ duration: Int64, shift: Int64) -> Int {
        let needed = Int(max(duration, 0) &>> shift) &+ bucketsPerWindow &+ 2
        var buckets = 2 * bucketsPerWindow
        while buckets < needed { buckets *= 2 }
        return buckets
    }

    /// A deep copy with its own buffers (all stored types are trivial, so memory copies are correct).
    func copy() -> CalendarQueue {
        var copy = self
        copy.entries = Self.allocateEntries(poolCapacity)
        copy.entries.initialize(from: entries, count: poolUsed)
        copy.freeEntries = .allocate(capacity: poolCapacity)
        copy.freeEntries.initialize(from: freeEntries, count: freeCount)
        copy.heads = .allocate(capacity: bucketCount)
        copy.heads.initialize(from: heads, count: bucketCount)
        copy.occupied = .allocate(capacity: bucketCount / 64)
        copy.occupied.initialize(from: occupied, count: bucketCount / 64)
        return copy
    }

    // MARK: Operations

    /// Adds a request while the window holding its start is being filled (or a later one,
    /// after ``skipEmptyWindows(nextStart:)``).
    @inline(__always)
    mutating func push(_ request: InFlightRequest) {
        let index: Int32
        if freeCount > 0 {
            freeCount &-= 1
            index = freeEntries[freeCount]
        } else {
            if poolUsed == poolCapacity { growPool() }
            index = Int32(truncatingIfNeeded: poolUsed)
            poolUsed &+= 1
        }
        count &+= 1
        let bucket = request.end &>> bucketShift
        if bucket &- (window &<< 6) >= Int64(bucketCount) { growWheel(toReach: bucket) }
        let slot = Int(truncatingIfNeeded: bucket) & (bucketCount &- 1)
        entries[Int(index)] = Entry(
            end: request.end, requestID: request.requestID, start: request.start, next: heads[slot],
            phaseAndOutcome: UInt32(bitPattern: request.phaseIndex) & 0x7FFF_FFFF | (request.isSuccess ? 0x8000_0000 : 0))
        heads[slot] = index
        occupied[slot &>> 6] |= 1 &<< UInt64(slot & 63)
    }

    /// Removes every request ending in the window being filled, writes their end events to
    /// `ends` from position `count` on, in (end, request ID) order, and moves on to the next
    /// window. Returns the new count. Requires every request starting in the window to have
    /// been pushed.
    mutating func drainWindow(into ends: inout EventBuffer, after count: Int) -> Int {
        let word = Int(truncatingIfNeeded: window) & (bucketCount / 64 &- 1)
        var bits = occupied[word]
        occupied[word] = 0
        window &+= 1
        var written = count
        while bits != 0 {
            let slot = word &<< 6 | bits.trailingZeroBitCount
            bits &= bits &- 1
            var index = heads[slot]
            heads[slot] = -1
            // The bucket's requests sort among themselves only: earlier buckets end earlier.
            let bucketStart = written
            while index >= 0 {
                let entry = entries[Int(index)]
                freeEntries[freeCount] = index
                freeCount &+= 1
                index = entry.next
                if written == ends.capacity { ends.grow(keeping: written) }
                var position = written
                while position > bucketStart {
                    let other = ends.base[position &- 1]
                    if other.time < entry.end || (other.time == entry.end && other.requestID < entry.requestID) {
                        break
                    }
                    ends.base[position] = other
                    position &-= 1
                }
                ends.base[position] = StreamEvent(
                    kind: entry.isSuccess ? .success : .failure, requestID: entry.requestID,
                    request: GeneratedRequest(
                        start: entry.start, duration: entry.end &- entry.start, isSuccess: entry.isSuccess,
                        phaseIndex: entry.phaseIndex))
                written &+= 1
            }
        }
        self.count &-= written &- count
        return written
    }

    /// The window being filled: `time >> windowShift` for the times it covers.
    var currentWindow: Int64 { window }

    /// Moves over empty windows. If neither `nextStart` (when the next request to push starts,
    /// `Int64.max` if none will) nor any request in the queue falls in the window being filled,
    /// moves to the first window that holds either. Returns `false` when there is neither: the
    /// queue is empty and nothing more will be pushed.
    mutating func skipEmptyWindows(nextStart: Int64) -> Bool {
        let words = bucketCount / 64
        let first = Int(truncatingIfNeeded: window) & (words &- 1)
        guard nextStart >= (window &+ 1) &<< windowShift, occupied[first] == 0 else { return true }
        var target = nextStart == .max ? .max : nextStart &>> windowShift
        if count > 0 {
            var offset = 0
            while occupied[(first &+ offset) & (words &- 1)] == 0 { offset &+= 1 }
            target = min(target, window &+ Int64(offset))
        }
        guard target != .max else { return false }
        window = target
        return true
    }

    // MARK: Growth (only past the pre-sized bounds)

    @inline(never)
    private mutating func growPool() {
        let newCapacity = poolCapacity * 2
        let newEntries = Self.allocateEntries(newCapacity)
        newEntries.moveInitialize(from: entries, count: poolUsed)
        UnsafeMutableRawPointer(entries).deallocate()
        entries = newEntries
        let newFree = UnsafeMutablePointer<Int32>.allocate(capacity: newCapacity)
        newFree.moveInitialize(from: freeEntries, count: freeCount)
        freeEntries.deallocate()
        freeEntries = newFree
        poolCapacity = newCapacity
    }

    /// Doubles the ring until `bucket` is less than one span past the window being filled,
    /// relinking every request in it. Cannot happen when durations respect the bound given at
    /// creation.
    @inline(never)
    private mutating func growWheel(toReach bucket: Int64) {
        let firstBucket = window &<< 6
        var newCount = bucketCount * 2
        while bucket &- firstBucket >= Int64(newCount) { newCount *= 2 }
        let newHeads = UnsafeMutablePointer<Int32>.allocate(capacity: newCount)
        newHeads.initialize(repeating: -1, count: newCount)
        let newOccupied = UnsafeMutablePointer<UInt64>.allocate(capacity: newCount / 64)
        newOccupied.initialize(repeating: 0, count: newCount / 64)
        // Relinking walks each old bucket from its head and pushes onto the new one, which
        // reverses the order within a bucket; the drain sorts buckets, so that is harmless.
        for slot in 0..<bucketCount {
            var index = heads[slot]
            while index >= 0 {
                let next = entries[Int(index)].next
                let newSlot = Int(truncatingIfNeeded: entries[Int(index)].end &>> bucketShift) & (newCount - 1)
                entries[Int(index)].next = newHeads[newSlot]
                newHeads[newSlot] = index
                newOccupied[newSlot >> 6] |= 1 << UInt64(newSlot & 63)
                index = next
            }
        }
        heads.deallocate()
        occupied.deallocate()
        heads = newHeads
        occupied = newOccupied
        bucketCount = newCount
    }
}

/// A growable buffer of stream events over manually managed memory, reused from batch to
/// batch so that producing events allocates nothing once it is large enough. One extra slot
/// precedes `base`, for a merge's sentinel.
struct EventBuffer {
    private(set) var base: UnsafeMutablePointer<StreamEvent>
    private(set) var capacity: Int

    init(capacity: Int) {
        self.capacity = max(capacity, 16)
        base = Self.allocate(self.capacity)
    }

    private static func allocate(_ capacity: Int) -> UnsafeMutablePointer<StreamEvent> {
        UnsafeMutablePointer<StreamEvent>.allocate(capacity: capacity + 1) + 1
    }

    func deallocate() { (base - 1).deallocate() }

    /// Doubles the capacity, keeping the first `count` events.
    @inline(never)
    mutating func grow(keeping count: Int) {
        let newBase = Self.allocate(capacity * 2)
        newBase.moveInitialize(from: base, count: count)
        deallocate()
        base = newBase
        capacity *= 2
    }

    /// Makes room for at least `needed` events; the contents are not kept.
    @inline(__always)
    mutating func reserve(_ needed: Int) {
        if needed > capacity { reallocate(needed) }
    }

    @inline(never)
    private mutating func reallocate(_ needed: Int) {
        deallocate()
        while capacity < needed { capacity *= 2 }
        base = Self.allocate(capacity)
    }
}

extension Int {
    /// The number of bits needed to write the value (0 for 0): `floor(log2(self)) + 1`.
    fileprivate var bitWidthNeeded: Int { Int.bitWidth - leadingZeroBitCount }
}
