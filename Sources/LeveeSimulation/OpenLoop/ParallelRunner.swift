import Dispatch
import Foundation
import Synchronization

/// The number of cores this process may use.
enum ProcessorCount {
    static var active: Int { max(1, ProcessInfo.processInfo.activeProcessorCount) }
}

/// Runs independent work items on a fixed number of threads, keeping their order.
enum ParallelRunner {
    private final class Shared<Item: Sendable, Output: Sendable>: Sendable {
        let items: [Item]
        let next = Atomic<Int>(0)
        let outputs: Mutex<[Output?]>
        let failure = Mutex<OpenLoopError?>(nil)

        init(items: [Item]) {
            self.items = items
            self.outputs = Mutex(Array(repeating: nil, count: items.count))
        }
    }

    /// Runs `work` on every item with up to `threads` threads; the calling thread waits and calls
    /// `report` with the progress about five times a second. Stops taking new items after a
    /// failure and rethrows the first one.
    static func run<Item: Sendable, Output: Sendable>(
        items: [Item], threads: Int, progress: BenchmarkProgress, report: ((Double) -> Void)?,
        work: @escaping @Sendable (Item) throws(OpenLoopError) -> Output
    ) throws(OpenLoopError) -> [Output] {
        let shared = Shared<Item, Output>(items: items)
        let group = DispatchGroup()
        // Dedicated threads rather than a shared pool: a work item may start threads of its own
        // and needs them to run concurrently with it.
        for _ in 0..<max(1, min(threads, items.count)) {
            group.enter()
            let thread = Thread {
                defer {
                    progress.recordThreadCPUTime()
                    group.leave()
                }
                while shared.failure.withLock({ $0 == nil }) {
                    let index = shared.next.wrappingAdd(1, ordering: .relaxed).oldValue
                    guard index < shared.items.count else { return }
                    do throws(OpenLoopError) {
                        let output = try work(shared.items[index])
                        shared.outputs.withLock { $0[index] = output }
                    } catch {
                        shared.failure.withLock { if $0 == nil { $0 = error } }
                    }
                }
            }
            thread.stackSize = 1 << 23
            thread.start()
        }
        while group.wait(timeout: .now() + .milliseconds(200)) == .timedOut {
            report?(progress.fraction)
        }
        if let failure = shared.failure.withLock({ $0 }) { throw failure }
        return shared.outputs.withLock { $0.map { $0! } }
    }
}
