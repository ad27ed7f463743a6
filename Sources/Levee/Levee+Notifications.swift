import Synchronization

/// Receives state transitions synchronously and in order, after Levee's lock is released, on the
/// thread of a caller that made a transition (when two threads make transitions at once, one of
/// them delivers both, in order). Keep it quick: it runs on a caller's path.
public protocol LeveeObserver: Sendable {
    func levee(_ levee: Levee, didChange change: StateChange)
}

extension Levee {
    /// A new stream of state transitions. Each call makes an independent subscriber; the stream
    /// keeps the newest `bufferSize` transitions if its consumer falls behind, and ends when the
    /// consumer stops iterating or the Levee is deallocated.
    public func stateChanges(bufferSize: Int = 64) -> AsyncStream<StateChange> {
        let (stream, continuation) = AsyncStream.makeStream(
            of: StateChange.self, bufferingPolicy: .bufferingNewest(max(1, bufferSize)))
        let id = notifications.subscribe(continuation)
        continuation.onTermination = { [weak notifications] _ in notifications?.unsubscribe(id) }
        return stream
    }

    /// Registers an observer called synchronously for every transition. Returns a token for
    /// ``removeObserver(_:)``.
    @discardableResult
    public func addObserver(_ observer: some LeveeObserver) -> ObserverToken {
        notifications.addObserver(observer, levee: self)
    }

    /// Stops calling the observer registered under `token`.
    public func removeObserver(_ token: ObserverToken) {
        notifications.removeObserver(token)
    }

    /// Identifies a registered ``LeveeObserver``.
    public struct ObserverToken: Sendable, Hashable {
        let id: UInt64
    }
}

/// Subscribers and observers, behind their own lock so delivery never holds the state lock.
final class Notifications: Sendable {
    private struct Registry {
        var nextID: UInt64 = 0
        var streams: [UInt64: AsyncStream<StateChange>.Continuation] = [:]
        var observers: [UInt64: @Sendable (StateChange) -> Void] = [:]
        /// Transitions are made under the state lock but delivered after it, so two threads can
        /// arrive here out of order: hold early ones until their predecessors are delivered.
        var nextSequence: UInt64 = 1
        var waiting: [UInt64: StateChange] = [:]
        /// One thread delivers at a time, in sequence order; others leave their changes to it.
        var delivering = false
    }

    private let registry = Mutex(Registry())

    func subscribe(_ continuation: AsyncStream<StateChange>.Continuation) -> UInt64 {
        registry.withLock { registry in
            registry.nextID += 1
            registry.streams[registry.nextID] = continuation
            return registry.nextID
        }
    }

    func unsubscribe(_ id: UInt64) {
        _ = registry.withLock { $0.streams.removeValue(forKey: id) }
    }

    func addObserver(_ observer: some LeveeObserver, levee: Levee) -> Levee.ObserverToken {
        // The closure holds the Levee weakly: an observer must not keep its Levee alive.
        let deliver: @Sendable (StateChange) -> Void = { [weak levee] change in
            if let levee { observer.levee(levee, didChange: change) }
        }
        return registry.withLock { registry in
            registry.nextID += 1
            registry.observers[registry.nextID] = deliver
            return Levee.ObserverToken(id: registry.nextID)
        }
    }

    func removeObserver(_ token: Levee.ObserverToken) {
        _ = registry.withLock { $0.observers.removeValue(forKey: token.id) }
    }

    /// Called after the state lock is released. Delivers every transition exactly once and in
    /// sequence order: a thread that finds another delivering leaves its change to that thread.
    /// Recipients are copied out first, so observers may subscribe or unsubscribe from a callback.
    func deliver(_ change: StateChange) {
        let ready: Bool = registry.withLock { registry in
            if change.sequence == 0 || change.sequence < registry.nextSequence { return false }
            registry.waiting[change.sequence] = change
            guard !registry.delivering else { return false }
            registry.delivering = true
            return true
        }
        guard ready else { return }
        while true {
            let (batch, streams, observers): ([StateChange], [AsyncStream<StateChange>.Continuation], [@Sendable (StateChange) -> Void]) =
                registry.withLock { registry in
                    var batch: [StateChange] = []
                    while let next = registry.waiting.removeValue(forKey: registry.nextSequence) {
                        batch.append(next)
                        registry.nextSequence += 1
                    }
                    if batch.isEmpty { registry.delivering = false }
                    return (batch, Array(registry.streams.values), Array(registry.observers.values))
                }
            if batch.isEmpty { return }
            for change in batch {
                for observer in observers { observer(change) }
                for stream in streams { stream.yield(change) }
            }
        }
    }

    deinit {
        let streams = registry.withLock { $0.streams.values }
        for stream in streams { stream.finish() }
    }
}
