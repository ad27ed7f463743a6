/// A fixed table of in-flight permits that makes releases idempotent.
///
/// Each admitted call takes a slot from a free list; its permit remembers the slot and the
/// slot's generation. A release frees the slot only if the generation still matches, so a second
/// release of the same permit (or a permit from an earlier epoch) is recognised and ignored.
/// Memory: 8 bytes per slot, allocated once.
struct PermitTable {
    /// Per slot: the generation of the permit occupying it (bit 31 set) or the last one (clear).
    private var generations: [UInt32]
    /// Free list threaded through the slots; `nextFree[slot]` is the next free slot.
    private var nextFree: [UInt32]
    private var freeHead: UInt32
    private(set) var inFlight: Int = 0
    /// Bumped by a restore: permits from an older epoch are stale.
    private(set) var epoch: UInt32 = 0

    private static let occupied: UInt32 = 1 << 31
    private static let end = UInt32.max

    init(capacity: Int) {
        precondition(capacity > 0 && capacity < Int(UInt32.max))
        generations = Array(repeating: 0, count: capacity)
        nextFree = (0..<capacity).map { UInt32($0 + 1) }
        nextFree[capacity - 1] = Self.end
        freeHead = 0
    }

    var capacity: Int { generations.count }
    var isFull: Bool { freeHead == Self.end }
    var memoryFootprint: Int { generations.count * 8 }

    /// Takes a slot. The caller has checked `isFull` first.
    mutating func take() -> (slot: UInt32, generation: UInt32) {
        let slot = freeHead
        let index = Int(slot)
        freeHead = nextFree[index]
        let generation = (generations[index] &+ 1) & ~Self.occupied
        generations[index] = generation | Self.occupied
        inFlight += 1
        return (slot, generation)
    }

    /// Frees the slot of a permit. Returns `false` if the permit was already released or is stale.
    mutating func free(slot: UInt32, generation: UInt32, epoch permitEpoch: UInt32) -> Bool {
        guard permitEpoch == epoch, Int(slot) < generations.count else { return false }
        let index = Int(slot)
        guard generations[index] == generation | Self.occupied else { return false }
        generations[index] = generation
        nextFree[index] = freeHead
        freeHead = slot
        inFlight -= 1
        return true
    }

    /// Forgets every outstanding permit (used by restore): their releases become no-ops.
    mutating func reset() {
        let capacity = generations.count
        for index in 0..<capacity {
            generations[index] &= ~Self.occupied
            nextFree[index] = index + 1 < capacity ? UInt32(index + 1) : Self.end
        }
        freeHead = 0
        inFlight = 0
        epoch &+= 1
    }
}
