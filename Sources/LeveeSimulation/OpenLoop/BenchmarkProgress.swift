import Foundation
import Synchronization

/// Progress of a running benchmark, readable from any thread.
public final class BenchmarkProgress: Sendable {
    private let processed = Atomic<Int>(0)
    private let expected: Atomic<Int>
    private let threadTimes = Mutex<[Double]>([])

    public init(expectedEvents: Int) {
        expected = Atomic(expectedEvents)
    }

    /// Stream events processed so far, over all work items.
    public var processedEvents: Int { processed.load(ordering: .relaxed) }
    /// Stream events expected over all work items (an estimate from the scenario's rates).
    public var expectedEvents: Int { expected.load(ordering: .relaxed) }

    /// Fraction done, in [0, 1].
    public var fraction: Double {
        let expected = expectedEvents
        guard expected > 0 else { return 0 }
        return min(1, Double(processedEvents) / Double(expected))
    }

    /// CPU seconds of each worker thread that has finished. On an idle machine the wall time is
    /// close to the largest; on a busy one it can be much longer.
    public var threadCPUSeconds: [Double] { threadTimes.withLock { $0 } }

    func add(_ events: Int) { processed.add(events, ordering: .relaxed) }

    /// Records the calling thread's CPU time; call it last thing on a worker thread.
    func recordThreadCPUTime() {
        var time = timespec()
        guard clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time) == 0 else { return }
        let seconds = Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
        threadTimes.withLock { $0.append(seconds) }
    }
    func setExpected(_ events: Int) { expected.store(events, ordering: .relaxed) }
}
