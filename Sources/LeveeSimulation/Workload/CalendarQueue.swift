/// A calendar queue (a timing wheel with per-bucket ordering) of in-flight requests, released
/// in (end, request ID) order: simultaneous ends leave in start order.
///
/// End times are hashed into a ring of `2^k`-nanosecond buckets that spans more than the
/// longest request, so a push is O(1): link the request into its bucket. When the earliest
/// bucket is needed, its few requests are sorted into `ready` (a short array kept in
/// descending order, the earliest last) and released from there; a bitmap of non-empty buckets
/// finds the next one with a few word scans. Buckets are sized from the peak arrival rate so
/// each holds a few requests at peak and far fewer otherwise.
///
/// Invariants: every request whose bucket is at or before `cursor` is in `ready`; every other
/// request is linked in the ring, less than one ring span after `cursor`; `ready` is empty only
/// when the whole queue is. They hold because the stream pushes each request at its start
/// time, when every request still in flight ends later.
///
/// A plain struct over manually managed buffers: its owner (``EventStreamEngine``) copies it
/// with ``copy()`` when the stream is copied and frees it with ``deallocate()``.
struct CalendarQueue: InFlightQueue {
    struct Entry {
        var end: Int64
        var requestID: Int64
        var start: Int64
        /// The next entry in the same bucket, or -1.
        var next: Int32
        var phaseIndex: Int32
        var isSuccess: Bool
    }

    private(set) var count = 0

    // Entry pool with a free-index stack; `ready` can hold every entry, so it shares the size.
    private var poolCapacity: Int
    private var poolUsed = 0
    private var entries: UnsafeMutablePointer<Entry>
    private var freeEntries: UnsafeMutablePointer<Int32>
    private var freeCount = 0
    /// A request in `ready`: its end time kept next to its index, so that peeking at the
    /// earliest end reads this small, hot array rather than the entry pool.
    struct ReadyItem {
        var end: Int64
        var index: Int32
    }

    private var ready: UnsafeMutablePointer<ReadyItem>
    private var readyCount = 0

    // The wheel.
    private let bucketShift: Int64
    private var bucketCount: Int
    private var heads: UnsafeMutablePointer<Int32>
    private var occupied: UnsafeMutablePointer<UInt64>
    /// The absolute bucket (`end >> bucketShift`) up to which requests are in `ready`.
    private var cursor: Int64 = -1

    init(capacity: Int, maximumDuration: Int64, peakRPM: Int) {
        poolCapacity = max(capacity, 16)
        entries = .allocate(capacity: poolCapacity)
        freeEntries = .allocate(capacity: poolCapacity)
        ready = Self.allocateReady(poolCapacity)

        // Two to four arrivals' worth of time per bucket at the peak rate: wide enough that
        // advancing is not per request, narrow enough that sorting a bucket stays trivial.
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
        entries.deallocate()
        freeEntries.deallocate()
        (ready - 1).deallocate()
        heads.deallocate()
        occupied.deallocate()
    }

    /// Room for `capacity` items after a sentinel whose end is `Int64.max`, so that the
    /// earliest end of an empty queue reads as "never" without a check.
    private static func allocateReady(_ capacity: Int) -> UnsafeMutablePointer<ReadyItem> {
        let base = UnsafeMutablePointer<ReadyItem>.allocate(capacity: capacity + 1)
        base.initialize(to: ReadyItem(end: .max, index: -1))
        return base + 1
    }

    /// A power of two, at least 64, covering `duration` plus the partial buckets at both ends.
    private static func bucketsToSpan(_ duration: Int64, shift: Int64) -> Int {
        let needed = Int(max(duration, 0) &>> shift) + 3
        var buckets = 64
        while buckets < needed { buckets *= 2 }
        return buckets
    }

    /// A deep copy with its own buffers (all stored types are trivial, so memory copies are correct).
    func copy() -> CalendarQueue {
        var copy = self
        copy.entries = .allocate(capacity: poolCapacity)
        copy.entries.initialize(from: entries, count: poolUsed)
        copy.freeEntries = .allocate(capacity: poolCapacity)
        copy.freeEntries.initialize(from: freeEntries, count: freeCount)
        copy.ready = Self.allocateReady(poolCapacity)
        copy.ready.initialize(from: ready, count: readyCount)
        copy.heads = .allocate(capacity: bucketCount)
        copy.heads.initialize(from: heads, count: bucketCount)
        copy.occupied = .allocate(capacity: bucketCount / 64)
        copy.occupied.initialize(from: occupied, count: bucketCount / 64)
        return copy
    }

    // MARK: Operations

    /// The earliest end time, `Int64.max` when the queue is empty. (`ready` is never empty
    /// while the queue is not: pushes and pops refill it eagerly, so peeking needs no mutation.)
    var minimumEnd: Int64 {
        ready[readyCount &- 1].end
    }

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
        entries[Int(index)] = Entry(
            end: request.end, requestID: request.requestID, start: request.start, next: -1,
            phaseIndex: request.phaseIndex, isSuccess: request.isSuccess)
        count &+= 1

        // Nothing in flight ends before this start, so the cursor may catch up to it; that
        // keeps every end within one ring span of the cursor.
        let startBucket = request.start &>> bucketShift
        if readyCount == 0 && startBucket > cursor {
            cursor = startBucket &- 1
        }
        let bucket = request.end &>> bucketShift
        if bucket <= cursor {
            insertIntoReady(index)
            return
        }
        if bucket &- cursor >= Int64(bucketCount) { growWheel(toReach: bucket) }
        let slot = Int(truncatingIfNeeded: bucket) & (bucketCount &- 1)
        entries[Int(index)].next = heads[slot]
        heads[slot] = index
        occupied[slot &>> 6] |= 1 &<< UInt64(slot & 63)
        if readyCount == 0 { advance() }
    }

    @inline(__always)
    mutating func popMinimum() -> InFlightRequest {
        readyCount &-= 1
        let index = ready[readyCount].index
        let entry = entries[Int(index)]
        freeEntries[freeCount] = index
        freeCount &+= 1
        count &-= 1
        if readyCount == 0 && count > 0 { advance() }
        return InFlightRequest(
            requestID: entry.requestID, start: entry.start, end: entry.end, phaseIndex: entry.phaseIndex,
            isSuccess: entry.isSuccess)
    }

    /// Inserts into `ready`, keeping it sorted by (end, request ID) descending.
    @inline(__always)
    private mutating func insertIntoReady(_ index: Int32) {
        let end = entries[Int(index)].end
        var position = readyCount
        while position > 0 {
            let other = ready[position &- 1]
            // Stop below the first entry that is later than the new one (ties: by request ID).
            if other.end > end
                || (other.end == end && entries[Int(other.index)].requestID > entries[Int(index)].requestID)
            {
                break
            }
            ready[position] = other
            position &-= 1
        }
        ready[position] = ReadyItem(end: end, index: index)
        readyCount &+= 1
    }

    /// Moves the cursor to the next non-empty bucket and sorts its requests into `ready`.
    /// Requires `ready` to be empty and the queue not to be. Out of line: the loop that calls
    /// it stays small enough to keep its state in registers.
    @inline(never)
    private mutating func advance() {
        let mask = bucketCount &- 1
        let wordMask = bucketCount / 64 &- 1
        let first = Int(truncatingIfNeeded: cursor &+ 1) & mask
        var word = first &>> 6
        var bits = occupied[word] & (~0 &<< UInt64(first & 63))
        while bits == 0 {
            word = (word &+ 1) & wordMask
            bits = occupied[word]
        }
        let slot = word &<< 6 | bits.trailingZeroBitCount
        cursor &+= 1 &+ Int64((slot &- first) & mask)

        var index = heads[slot]
        heads[slot] = -1
        occupied[word] &= ~(1 &<< UInt64(slot & 63))
        while index >= 0 {
            let next = entries[Int(index)].next
            insertIntoReady(index)
            index = next
        }
    }

    // MARK: Growth (only past the pre-sized bounds)

    @inline(never)
    private mutating func growPool() {
        let newCapacity = poolCapacity * 2
        let newEntries = UnsafeMutablePointer<Entry>.allocate(capacity: newCapacity)
        newEntries.moveInitialize(from: entries, count: poolUsed)
        entries.deallocate()
        entries = newEntries
        let newFree = UnsafeMutablePointer<Int32>.allocate(capacity: newCapacity)
        newFree.moveInitialize(from: freeEntries, count: freeCount)
        freeEntries.deallocate()
        freeEntries = newFree
        let newReady = Self.allocateReady(newCapacity)
        newReady.moveInitialize(from: ready, count: readyCount)
        (ready - 1).deallocate()
        ready = newReady
        poolCapacity = newCapacity
    }

    /// Doubles the ring until `bucket` is less than one span past the cursor, relinking every
    /// request in it. Cannot happen when durations respect the bound given at creation.
    @inline(never)
    private mutating func growWheel(toReach bucket: Int64) {
        var newCount = bucketCount * 2
        while bucket &- cursor >= Int64(newCount) { newCount *= 2 }
        let newHeads = UnsafeMutablePointer<Int32>.allocate(capacity: newCount)
        newHeads.initialize(repeating: -1, count: newCount)
        let newOccupied = UnsafeMutablePointer<UInt64>.allocate(capacity: newCount / 64)
        newOccupied.initialize(repeating: 0, count: newCount / 64)
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

extension Int {
    /// The number of bits needed to write the value (0 for 0): `floor(log2(self)) + 1`.
    fileprivate var bitWidthNeeded: Int { Int.bitWidth - leadingZeroBitCount }
}
