/// A fixed table of in-flight permits that makes releases idempotent.
///
/// Each admitted call takes a slot from a free list; its permit remembers the slot and the
/// slot's generation. A release frees the slot only if the generation still matches, so a second
/// release of the same permit (or a permit from an earlier epoch) is recognised and ignored.
/// Memory: 8 bytes per slot, allocated once: per slot one word packs the generation (low 31 bits),
/// an "occupied" flag (bit 31) and the next free slot (high 32 bits).
struct PermitTable {
    private var slots: [UInt64]
    private var freeHead: UInt32
    private(set) var inFlight: Int = 0
    /// Bumped by a restore: permits from an older epoch are stale.
    private(set) var epoch: UInt32 = 0

    private static let occupied: UInt64 = 1 << 31
    private static let generationMask: UInt64 = 0x7FFF_FFFF
    private static let end = UInt32.max

    init(capacity: Int) {
        precondition(capacity > 0 && capacity < Int(UInt32.max))
        slots = (0..<capacity).map { index in
            UInt64(index + 1 < capacity ? UInt32(index + 1) : Self.end) << 32
        }
        freeHead = 0
    }

    var capacity: Int { slots.count }
    var isFull: Bool { freeHead == Self.end }
    var memoryFootprint: Int { slots.count * 8 }

    /// Takes a slot. The caller has checked `isFull` first.
    @inline(__always)
    mutating func take() -> (slot: UInt32, generation: UInt32) {
        let slot = freeHead
        let word = slots[Int(slot)]
        freeHead = UInt32(truncatingIfNeeded: word >> 32)
        let generation = UInt32((word &+ 1) & Self.generationMask)
        slots[Int(slot)] = UInt64(generation) | Self.occupied
        inFlight += 1
        return (slot, generation)
    }

    /// Frees the slot of a permit. Returns `false` if the permit was already released or is stale.
    @inline(__always)
    mutating func free(slot: UInt32, generation: UInt32, epoch permitEpoch: UInt32) -> Bool {
        let index = Int(slot)
        guard permitEpoch == epoch, index < slots.count,
              slots[index] == UInt64(generation) | Self.occupied else { return false }
        slots[index] = UInt64(generation) | (UInt64(freeHead) << 32)
        freeHead = slot
        inFlight -= 1
        return true
    }

    /// Forgets every outstanding permit (used by restore): their releases become no-ops.
    mutating func reset() {
        let capacity = slots.count
        for index in 0..<capacity {
            let next = index + 1 < capacity ? UInt32(index + 1) : Self.end
            slots[index] = (slots[index] & Self.generationMask) | (UInt64(next) << 32)
        }
        freeHead = 0
        inFlight = 0
        epoch &+= 1
    }
}
