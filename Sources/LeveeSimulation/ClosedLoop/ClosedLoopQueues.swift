/// A retry waiting for its back-off to expire.
struct RetryTimer {
    var time: Int64
    var arrivalIndex: UInt64
    var arrivalTime: Int64
    /// The attempt it will send (2 for the first retry).
    var attempt: Int32

    /// Time first; ties by request identity, so the order never depends on insertion order.
    @inline(__always)
    static func precedes(_ lhs: RetryTimer, _ rhs: RetryTimer) -> Bool {
        if lhs.time != rhs.time { return lhs.time < rhs.time }
        if lhs.arrivalIndex != rhs.arrivalIndex { return lhs.arrivalIndex < rhs.arrivalIndex }
        return lhs.attempt < rhs.attempt
    }
}

/// A binary min-heap of retry timers. Storage grows by doubling and is never released, so a
/// run allocates only while it reaches its largest backlog.
struct RetryHeap {
    private var storage: ContiguousArray<RetryTimer> = []

    init(reservingCapacity capacity: Int) {
        storage.reserveCapacity(capacity)
    }

    var isEmpty: Bool { storage.isEmpty }
    var count: Int { storage.count }
    /// The earliest timer's time, `Int64.max` when empty.
    var nextTime: Int64 { storage.first?.time ?? .max }

    mutating func push(_ timer: RetryTimer) {
        storage.append(timer)
        var child = storage.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard RetryTimer.precedes(timer, storage[parent]) else { break }
            storage[child] = storage[parent]
            child = parent
        }
        storage[child] = timer
    }

    /// Removes and returns the earliest timer; the heap must not be empty.
    mutating func pop() -> RetryTimer {
        let top = storage[0]
        let last = storage.removeLast()
        guard !storage.isEmpty else { return top }
        var parent = 0
        let count = storage.count
        while true {
            var child = 2 * parent + 1
            guard child < count else { break }
            if child + 1 < count, RetryTimer.precedes(storage[child + 1], storage[child]) { child += 1 }
            guard RetryTimer.precedes(storage[child], last) else { break }
            storage[parent] = storage[child]
            parent = child
        }
        storage[parent] = last
        return top
    }
}

/// A FIFO ring of 32-bit indices that doubles when full.
struct IndexRing {
    private var storage: ContiguousArray<Int32>
    private var head = 0
    private(set) var count = 0

    init(capacity: Int) {
        var size = 16
        while size < capacity { size *= 2 }
        storage = ContiguousArray(repeating: 0, count: size)
    }

    var isEmpty: Bool { count == 0 }

    /// The oldest index; the ring must not be empty.
    var first: Int32 { storage[head] }

    @inline(__always)
    mutating func append(_ value: Int32) {
        if count == storage.count { grow() }
        storage[(head + count) & (storage.count - 1)] = value
        count += 1
    }

    @inline(__always)
    mutating func removeFirst() -> Int32 {
        let value = storage[head]
        head = (head + 1) & (storage.count - 1)
        count -= 1
        return value
    }

    @inline(never)
    private mutating func grow() {
        var larger = ContiguousArray<Int32>(repeating: 0, count: storage.count * 2)
        for offset in 0..<count { larger[offset] = storage[(head + offset) & (storage.count - 1)] }
        storage = larger
        head = 0
    }
}
