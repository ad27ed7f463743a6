import Synchronization

/// A fixed table of in-flight permits that makes releases idempotent.
///
/// Each admitted call takes a slot from a free list; its permit remembers the slot, the slot's
/// generation and the table's owner. A release frees the slot only if all of them still match, so
/// a second release of the same permit, a permit from an earlier epoch, or a permit another
/// instance issued is recognised and ignored.
/// Memory: 8 bytes per slot, allocated once: per slot one word packs the generation (low 31 bits),
/// an "occupied" flag (bit 31) and the next free slot (high 32 bits).
struct PermitTable {
    /// Identifies the table among every table of the process, so a permit handed to the wrong
    /// instance is told apart from its own. Copies of a state machine share it; they are the same
    /// controller at different moments.
    let owner: UInt32
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
        owner = Self.nextOwner.add(1, ordering: .relaxed).newValue
    }

    /// Owner identities handed out so far; only uniqueness matters, never the value.
    private static let nextOwner = Atomic<UInt32>(0)

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

    /// Whether the permit still holds its slot here: issued by this table, in the current epoch,
    /// and not released yet.
    @inline(__always)
    func isOutstanding(slot: UInt32, generation: UInt32, epoch permitEpoch: UInt32, owner permitOwner: UInt32) -> Bool {
        let index = Int(slot)
        return permitOwner == owner && permitEpoch == epoch && index < slots.count
            && slots[index] == UInt64(generation) | Self.occupied
    }

    /// Frees the slot of a permit the caller has checked with ``isOutstanding(slot:generation:epoch:owner:)``.
    @inline(__always)
    mutating func free(slot: UInt32) {
        let index = Int(slot)
        slots[index] = (slots[index] & Self.generationMask) | (UInt64(freeHead) << 32)
        freeHead = slot
        inFlight -= 1
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
