import Foundation
import Synchronization

/// A ring of event chunks shared by one producer and a few consumers, which all see every chunk
/// in order. The producer reuses a chunk only after every consumer is done with it.
final class ChunkRing: @unchecked Sendable {
    // Unchecked: the buffers are written only by the producer, and only while no consumer may
    // read them (ordered by the acquire/release counters below).
    private let storage: UnsafeMutablePointer<OpenLoopEvent>
    private let counts: UnsafeMutablePointer<Int>
    private let chunkCount: Int
    private let chunkSize: Int
    /// Chunks published so far.
    private let published = Atomic<Int>(0)
    /// Per consumer: chunks it has finished with.
    private let consumed: UnsafeMutablePointer<Atomic<Int>>
    private let consumerCount: Int

    init(chunks: Int, chunkSize: Int, consumers: Int) {
        chunkCount = chunks
        self.chunkSize = chunkSize
        consumerCount = consumers
        storage = .allocate(capacity: chunks * chunkSize)
        storage.initialize(repeating: OpenLoopEvent(), count: chunks * chunkSize)
        counts = .allocate(capacity: chunks)
        counts.initialize(repeating: 0, count: chunks)
        consumed = .allocate(capacity: max(1, consumers))
        for index in 0..<max(1, consumers) { (consumed + index).initialize(to: Atomic(0)) }
    }

    deinit {
        storage.deallocate()
        counts.deallocate()
        consumed.deinitialize(count: max(1, consumerCount))
        consumed.deallocate()
    }

    private func chunk(_ sequence: Int) -> UnsafeMutableBufferPointer<OpenLoopEvent> {
        UnsafeMutableBufferPointer(start: storage + (sequence % chunkCount) * chunkSize, count: chunkSize)
    }

    /// Fills chunks with `fill` (which returns how many events it wrote, 0 at the end) until the
    /// end, publishing each and then passing it to `afterPublishing`. An empty chunk is always
    /// published last, also when `fill` throws, so consumers stop.
    func produce(
        _ fill: (UnsafeMutableBufferPointer<OpenLoopEvent>) throws(OpenLoopError) -> Int,
        afterPublishing: (UnsafeBufferPointer<OpenLoopEvent>) -> Void
    ) throws(OpenLoopError) {
        var sequence = 0
        while true {
            // Wait until every consumer is done with the chunk this one overwrites.
            let reusable = sequence - chunkCount + 1
            if reusable > 0 {
                Self.wait { (0..<consumerCount).allSatisfy { consumed[$0].load(ordering: .acquiring) >= reusable } }
            }
            let buffer = chunk(sequence)
            var count = 0
            var failure: OpenLoopError?
            do {
                count = try fill(buffer)
            } catch {
                failure = error
            }
            counts[sequence % chunkCount] = count
            published.store(sequence + 1, ordering: .releasing)
            if let failure { throw failure }
            if count == 0 { return }
            afterPublishing(UnsafeBufferPointer(rebasing: buffer[0..<count]))
            sequence += 1
        }
    }

    /// Passes every published chunk to `process`, in order, until the empty one.
    func consume(as consumer: Int, _ process: (UnsafeBufferPointer<OpenLoopEvent>) -> Void) {
        var sequence = 0
        while true {
            Self.wait { published.load(ordering: .acquiring) > sequence }
            let count = counts[sequence % chunkCount]
            if count == 0 { return }
            process(UnsafeBufferPointer(rebasing: chunk(sequence)[0..<count]))
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
