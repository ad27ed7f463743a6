import Foundation
import Synchronization

/// A ring of event chunks shared by one producer and a few consumers, which all see every chunk
/// in order. The producer reuses a chunk only after every consumer is done with it.
final class ChunkRing: @unchecked Sendable {
    // Unchecked: the buffers are written only by the producer, and only while no consumer may
    // read them (ordered by the acquire/release counters below).
    private let buffers: [ChunkBuffer]
    private let chunkCount: Int
    /// Chunks published so far.
    private let published = Atomic<Int>(0)
    /// Per consumer: chunks it has finished with.
    private let consumed: UnsafeMutablePointer<Atomic<Int>>
    private let consumerCount: Int

    init(chunks: Int, chunkSize: Int, consumers: Int) {
        chunkCount = chunks
        consumerCount = consumers
        buffers = (0..<chunks).map { _ in ChunkBuffer(capacity: chunkSize) }
        consumed = .allocate(capacity: max(1, consumers))
        for index in 0..<max(1, consumers) { (consumed + index).initialize(to: Atomic(0)) }
    }

    deinit {
        consumed.deinitialize(count: max(1, consumerCount))
        consumed.deallocate()
    }

    private func buffer(_ sequence: Int) -> ChunkBuffer { buffers[sequence % chunkCount] }

    /// Fills chunks with `fill` (which returns how many events it wrote, 0 at the end) until the
    /// end, publishing each and then passing it to `afterPublishing`. An empty chunk is always
    /// published last, also when `fill` throws, so consumers stop.
    func produce(
        _ fill: (ChunkBuffer) throws(OpenLoopError) -> Int,
        afterPublishing: (OpenLoopChunk) -> Void
    ) throws(OpenLoopError) {
        var sequence = 0
        while true {
            // Wait until every consumer is done with the chunk this one overwrites.
            let reusable = sequence - chunkCount + 1
            if reusable > 0 {
                Self.wait { (0..<consumerCount).allSatisfy { consumed[$0].load(ordering: .acquiring) >= reusable } }
            }
            let buffer = buffer(sequence)
            var count = 0
            var failure: OpenLoopError?
            do {
                count = try fill(buffer)
            } catch {
                failure = error
                buffer.setCounts(events: 0, ends: 0, startGroups: 0)
            }
            published.store(sequence + 1, ordering: .releasing)
            if let failure { throw failure }
            if count == 0 { return }
            afterPublishing(buffer.chunk)
            sequence += 1
        }
    }

    /// Passes every published chunk to `process`, in order, until the empty one.
    func consume(as consumer: Int, _ process: (OpenLoopChunk) -> Void) {
        var sequence = 0
        while true {
            Self.wait { published.load(ordering: .acquiring) > sequence }
            let chunk = buffer(sequence).chunk
            if chunk.events.isEmpty { return }
            process(chunk)
            consumed[consumer].store(sequence + 1, ordering: .releasing)
            sequence += 1
        }
    }

    /// Spins briefly, then yields a few times, then sleeps: cheap when the other side is about to
    /// deliver, and no CPU burnt when it is far behind (16 chunks of slack hide the wake-up delay).
    private static func wait(until condition: () -> Bool) {
        var attempts = 0
        while !condition() {
            attempts += 1
            if attempts < 64 {
                continue
            } else if attempts < 96 {
                sched_yield()
            } else {
                usleep(100)
            }
        }
    }
}
