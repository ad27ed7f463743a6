// Preallocated containers for the backend's hot path: they grow only when a peak exceeds their
// starting capacity (amortised, never per request once warm) and never shrink.

/// A binary min-heap of instants.
struct InstantHeap: Sendable {
    private(set) var storage: ContiguousArray<Int64> = []

    init(capacity: Int) {
        storage.reserveCapacity(capacity)
    }

    var count: Int { storage.count }
    var isEmpty: Bool { storage.isEmpty }
    /// The earliest instant, `Int64.max` when empty.
    var minimum: Int64 { storage.first ?? .max }

    mutating func removeAll() { storage.removeAll(keepingCapacity: true) }

    mutating func insert(_ value: Int64) {
        storage.append(value)
        siftUp(from: storage.count - 1)
    }

    /// Removes the minimum (the heap must not be empty).
    @discardableResult
    mutating func removeMinimum() -> Int64 {
        let top = storage[0]
        let last = storage.removeLast()
        if !storage.isEmpty {
            storage[0] = last
            siftDown(from: 0)
        }
        return top
    }

    /// Replaces the minimum with `value` in one sift (the heap must not be empty).
    mutating func replaceMinimum(with value: Int64) {
        storage[0] = value
        siftDown(from: 0)
    }

    // The sifts work on the raw buffer: one uniqueness check per operation, not per move.

    private mutating func siftUp(from start: Int) {
        storage.withUnsafeMutableBufferPointer { heap in
            var index = start
            let value = heap[index]
            while index > 0 {
                let parent = (index - 1) / 2
                guard value < heap[parent] else { break }
                heap[index] = heap[parent]
                index = parent
            }
            heap[index] = value
        }
    }

    private mutating func siftDown(from start: Int) {
        storage.withUnsafeMutableBufferPointer { heap in
            let count = heap.count
            var index = start
            let value = heap[index]
            while true {
                var child = 2 * index + 1
                guard child < count else { break }
                if child + 1 < count, heap[child + 1] < heap[child] { child += 1 }
                guard heap[child] < value else { break }
                heap[index] = heap[child]
                index = child
            }
            heap[index] = value
        }
    }
}

/// A completion the backend has decided but not delivered yet.
struct PendingCompletion: Sendable {
    var completedAt: Int64
    /// Submission order: breaks ties between equal completion instants deterministically.
    var sequence: UInt64
    var id: UInt64
    var submittedAt: Int64
    /// When the request reached a worker (only meaningful when `busy > 0`).
    var serviceStart: Int64
    var busy: Int64
    var tag: Int32
    var cause: BackendOutcomeCause

    @inline(__always)
    func precedes(_ other: PendingCompletion) -> Bool {
        completedAt < other.completedAt || (completedAt == other.completedAt && sequence < other.sequence)
    }

    var completion: BackendCompletion {
        BackendCompletion(
            tag: tag, id: id, submittedAt: submittedAt, completedAt: completedAt,
            succeeded: cause == .success, cause: cause, busyNanoseconds: busy)
    }
}

/// A binary min-heap of pending completions ordered by (completion instant, submission order).
struct CompletionHeap: Sendable {
    private(set) var storage: ContiguousArray<PendingCompletion> = []

    init(capacity: Int) {
        storage.reserveCapacity(capacity)
    }

    var count: Int { storage.count }
    var first: PendingCompletion? { storage.first }

    mutating func insert(_ value: PendingCompletion) {
        storage.append(value)
        storage.withUnsafeMutableBufferPointer { heap in
            var index = heap.count - 1
            while index > 0 {
                let parent = (index - 1) / 2
                guard value.precedes(heap[parent]) else { break }
                heap[index] = heap[parent]
                index = parent
            }
            heap[index] = value
        }
    }

    /// Removes the first completion (the heap must not be empty).
    mutating func removeFirst() -> PendingCompletion {
        let top = storage[0]
        let last = storage.removeLast()
        guard !storage.isEmpty else { return top }
        storage.withUnsafeMutableBufferPointer { heap in
            let count = heap.count
            var index = 0
            while true {
                var child = 2 * index + 1
                guard child < count else { break }
                if child + 1 < count, heap[child + 1].precedes(heap[child]) { child += 1 }
                guard heap[child].precedes(last) else { break }
                heap[index] = heap[child]
                index = child
            }
            heap[index] = last
        }
        return top
    }

    /// Rewrites entries in place; `body` must not change their order keys.
    mutating func updateEach(_ body: (inout PendingCompletion) -> Void) {
        for index in storage.indices { body(&storage[index]) }
    }
}

/// A first-in first-out ring of plain values that doubles when full.
struct GrowingRing<Element: Sendable>: Sendable {
    private var storage: ContiguousArray<Element>
    private let filler: Element
    private var head = 0
    private(set) var count = 0

    /// `filler` occupies unused places (the elements are plain values, so nothing is retained).
    init(capacity: Int, filler: Element) {
        var size = 16
        while size < capacity { size *= 2 }
        storage = ContiguousArray(repeating: filler, count: size)
        self.filler = filler
    }

    var isEmpty: Bool { count == 0 }
    var first: Element? { count == 0 ? nil : storage[head] }

    mutating func append(_ element: Element) {
        if count == storage.count { grow() }
        storage[(head + count) & (storage.count - 1)] = element
        count += 1
    }

    /// Removes the oldest element (the ring must not be empty).
    @discardableResult
    mutating func removeFirst() -> Element {
        let element = storage[head]
        head = (head + 1) & (storage.count - 1)
        count -= 1
        return element
    }

    mutating func removeAll() {
        head = 0
        count = 0
    }

    /// Rewrites every element in place, oldest first.
    mutating func updateEach(_ body: (inout Element) -> Void) {
        for offset in 0..<count {
            body(&storage[(head + offset) & (storage.count - 1)])
        }
    }

    /// Visits every element, oldest first.
    func forEach(_ body: (Element) -> Void) {
        for offset in 0..<count { body(storage[(head + offset) & (storage.count - 1)]) }
    }

    private mutating func grow() {
        var larger = ContiguousArray<Element>(repeating: filler, count: storage.count * 2)
        for offset in 0..<count { larger[offset] = storage[(head + offset) & (storage.count - 1)] }
        storage = larger
        head = 0
    }
}
