/// The Go loadgen's in-flight heap, reproduced exactly: a binary min-heap on end time alone,
/// with `container/heap`'s sift-up and the loadgen's `PopEvent` sift-down (`<` to move up,
/// `<=` to stop moving down, the right child only when strictly smaller). Requests ending at
/// the same nanosecond therefore leave in the Go original's order.
///
/// Nodes are 16 bytes (end time and request ID) so that sifting moves little data; moves use a
/// hole instead of swaps, which yields the same arrangement. The rest of each request waits in
/// a ring indexed by request ID: IDs in flight span little more than one timeout's arrivals.
///
/// A plain struct over manually managed buffers: its owner (``EventStreamEngine``) copies it
/// with ``copy()`` when the stream is copied and frees it with ``deallocate()``.
struct GoBinaryHeap {
    struct Node {
        var end: Int64
        var requestID: Int64
    }

    /// What the ring keeps of a request; `requestID == 0` marks a free entry.
    struct Payload {
        var requestID: Int64
        var start: Int64
        var phaseIndex: Int32
        var isSuccess: Bool

        static let free = Payload(requestID: 0, start: 0, phaseIndex: 0, isSuccess: false)
    }

    private(set) var count = 0
    private var capacity: Int
    private var nodes: UnsafeMutablePointer<Node>
    private var ring: UnsafeMutablePointer<Payload>
    private var ringMask: Int

    /// Every position at or past `count` holds this, so sift-down never asks whether a right
    /// child exists: a missing one is never strictly smaller, so the left is taken, as in Go.
    private static var sentinel: Node { Node(end: .max, requestID: 0) }

    init(capacity: Int) {
        self.capacity = max(capacity, 16)
        nodes = Self.allocateNodes(self.capacity)
        var ringSize = 16
        while ringSize < self.capacity * 2 { ringSize *= 2 }
        ring = .allocate(capacity: ringSize)
        ring.initialize(repeating: .free, count: ringSize)
        ringMask = ringSize - 1
    }

    func deallocate() {
        nodes.deallocate()
        ring.deallocate()
    }

    private static func allocateNodes(_ capacity: Int) -> UnsafeMutablePointer<Node> {
        let nodes = UnsafeMutablePointer<Node>.allocate(capacity: capacity + 1)
        nodes.initialize(repeating: sentinel, count: capacity + 1)
        return nodes
    }

    /// A deep copy with its own buffers (all stored types are trivial, so memory copies are correct).
    func copy() -> GoBinaryHeap {
        var copy = self
        copy.nodes = .allocate(capacity: capacity + 1)
        copy.nodes.initialize(from: nodes, count: capacity + 1)
        copy.ring = .allocate(capacity: ringMask + 1)
        copy.ring.initialize(from: ring, count: ringMask + 1)
        return copy
    }

    /// The earliest end time, `Int64.max` (the sentinel) when the heap is empty.
    var minimumEnd: Int64 { nodes[0].end }

    @inline(__always)
    mutating func push(_ request: InFlightRequest) {
        if count == capacity { growNodes() }
        if ring[Int(truncatingIfNeeded: request.requestID) & ringMask].requestID != 0 {
            growRing(toHold: request.requestID)
        }
        ring[Int(truncatingIfNeeded: request.requestID) & ringMask] = Payload(
            requestID: request.requestID, start: request.start, phaseIndex: request.phaseIndex,
            isSuccess: request.isSuccess)

        // container/heap's up(): move up while strictly earlier than the parent.
        let node = Node(end: request.end, requestID: request.requestID)
        var child = count
        count &+= 1
        while child > 0 {
            let parent = (child &- 1) / 2
            guard node.end < nodes[parent].end else { break }
            nodes[child] = nodes[parent]
            child = parent
        }
        nodes[child] = node
    }

    @inline(__always)
    mutating func popMinimum() -> InFlightRequest {
        let minimum = nodes[0]
        count &-= 1
        let last = nodes[count]
        nodes[count] = Self.sentinel
        if count > 0 {
            // The loadgen's down() walks the path of smaller children (right only if strictly
            // smaller) and stops above the first child no earlier than the moving node. Ends
            // along that path never decrease, so the same place is found from the bottom: move
            // the whole path up a level, then bring back down the children no earlier than the
            // moving node. The moving node comes from the bottom and usually belongs near it, so
            // this saves a comparison per level.
            var hole = 0
            while true {
                let left = 2 &* hole &+ 1
                if left >= count { break }
                // Branch-free choice: the comparison is a coin flip.
                let child = left &+ (nodes[left &+ 1].end < nodes[left].end ? 1 : 0)
                nodes[hole] = nodes[child]
                hole = child
            }
            while hole > 0 {
                let parent = (hole &- 1) / 2
                guard last.end <= nodes[parent].end else { break }
                nodes[hole] = nodes[parent]
                hole = parent
            }
            nodes[hole] = last
        }

        let slot = Int(truncatingIfNeeded: minimum.requestID) & ringMask
        let payload = ring[slot]
        ring[slot].requestID = 0
        return InFlightRequest(
            requestID: minimum.requestID, start: payload.start, end: minimum.end,
            phaseIndex: payload.phaseIndex, isSuccess: payload.isSuccess)
    }

    // MARK: Growth (only past the pre-sized bound)

    @inline(never)
    private mutating func growNodes() {
        let newCapacity = capacity * 2
        let newNodes = Self.allocateNodes(newCapacity)
        newNodes.update(from: nodes, count: count)
        nodes.deallocate()
        nodes = newNodes
        capacity = newCapacity
    }

    /// Doubles the ring until every request in flight and `newID` have distinct entries.
    @inline(never)
    private mutating func growRing(toHold newID: Int64) {
        var size = (ringMask + 1) * 2
        while true {
            let mask = size - 1
            let newRing = UnsafeMutablePointer<Payload>.allocate(capacity: size)
            newRing.initialize(repeating: .free, count: size)
            let newSlot = Int(truncatingIfNeeded: newID) & mask
            var fits = true
            for index in 0...ringMask where fits && ring[index].requestID != 0 {
                let slot = Int(truncatingIfNeeded: ring[index].requestID) & mask
                if newRing[slot].requestID != 0 || slot == newSlot {
                    fits = false
                } else {
                    newRing[slot] = ring[index]
                }
            }
            if fits {
                ring.deallocate()
                ring = newRing
                ringMask = mask
                return
            }
            newRing.deallocate()
            size *= 2
        }
    }
}
