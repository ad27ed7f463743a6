import Foundation
import Synchronization
import Testing
@testable import Levee

/// An observer that reads the Levee from inside its callback (which would deadlock if Levee still
/// held its lock), and can remove itself.
final class CoreReentrantObserver: LeveeObserver {
    struct Call: Sendable {
        let change: StateChange
        let stateInside: LeveeState
        let statisticsStateInside: LeveeState
        let transitionsInside: Int
        let acquiredInside: Bool
    }

    private let calls = Mutex<[Call]>([])
    let token = Mutex<Levee.ObserverToken?>(nil)
    let removeSelf: Bool
    let acquireInside: Bool

    init(removeSelf: Bool = false, acquireInside: Bool = false) {
        self.removeSelf = removeSelf
        self.acquireInside = acquireInside
    }

    var recorded: [Call] { calls.withLock { $0 } }

    func levee(_ levee: Levee, didChange change: StateChange) {
        let statistics = levee.statistics
        let state = levee.state
        _ = levee.snapshot()
        var acquired = false
        if acquireInside, case .admitted(let permit)? = try? levee.acquire(at: change.at) {
            acquired = true
            try? levee.release(permit, outcome: .ignored, at: change.at)
        }
        calls.withLock {
            $0.append(Call(change: change, stateInside: state, statisticsStateInside: statistics.state,
                           transitionsInside: statistics.counters.transitions, acquiredInside: acquired))
        }
        if removeSelf, let token = token.withLock({ $0 }) { levee.removeObserver(token) }
    }
}

/// Checks, as transitions arrive, that each one starts where the previous one ended.
final class CoreChainObserver: LeveeObserver {
    private let state = Mutex<(last: StateChange?, breaks: [String], count: Int)>((nil, [], 0))
    var breaks: [String] { state.withLock { $0.breaks } }
    var count: Int { state.withLock { $0.count } }
    var last: StateChange? { state.withLock { $0.last } }

    func levee(_ levee: Levee, didChange change: StateChange) {
        state.withLock { state in
            if let last = state.last, last.to.kind != change.from.kind {
                state.breaks.append("\(last) then \(change)")
            }
            state.last = change
            state.count += 1
        }
    }
}

@Suite(.timeLimit(.minutes(1)))
struct NotificationTests {
    static let slo = try! SLO(successRate: 0.99, timeout: .seconds(1))

    /// Drives an outage and its recovery on explicit time: closed → open → closed.
    static func outageAndRecovery(_ levee: Levee, seed: UInt64 = 1) -> CoreDriver {
        var driver = CoreDriver(levee, seed: seed)
        driver.run(seconds: 2, rate: 1_000, call: CoreDriver.constant(failureRate: 0))
        driver.run(seconds: 3, rate: 1_000, call: CoreDriver.constant(failureRate: 1))
        driver.run(seconds: 20, rate: 1_000, call: CoreDriver.constant(failureRate: 0))
        return driver
    }

    /// Reads `count` changes from `stream`.
    static func first(_ count: Int, of stream: AsyncStream<StateChange>) async -> [StateChange] {
        var changes: [StateChange] = []
        for await change in stream {
            changes.append(change)
            if changes.count == count { break }
        }
        return changes
    }

    /// Snapshots that flip a Levee between open and closed instantly (reason `.restored`).
    static let openSnapshot = SnapshotTests.open().0.snapshot()
    static let closedSnapshot = SnapshotTests.trained().0.snapshot()

    @Test func everySubscriberReceivesEveryTransition() async throws {
        let levee = Levee(slo: Self.slo)
        let recorder = CoreTransitionRecorder()
        levee.addObserver(recorder)
        let subscribers = [levee.stateChanges(), levee.stateChanges(), levee.stateChanges()]
        _ = Self.outageAndRecovery(levee)
        let expected = recorder.changes
        try #require(expected.count == 2)
        #expect(expected[0].from == .closed && expected[0].to == .open && expected[0].reason == .dependencyDown)
        #expect(expected[1].from == .open && expected[1].to == .closed && expected[1].reason == .recovered)
        #expect(expected[0].at > 2 * coreSecond && expected[0].at < expected[1].at)
        #expect(levee.statistics.counters.transitions == 2)
        for stream in subscribers {
            #expect(await Self.first(2, of: stream) == expected)
        }
    }

    @Test func aLaterSubscriberSeesOnlyLaterTransitions() async throws {
        let levee = Levee(slo: Self.slo)
        try levee.restore(from: Self.openSnapshot, at: 10)
        let late = levee.stateChanges()
        try levee.restore(from: Self.closedSnapshot, at: 20)
        #expect(await Self.first(1, of: late) == [StateChange(from: .open, to: .closed, reason: .restored, at: 20)])
    }

    @Test func aTerminatedSubscriberStopsWithoutAffectingOthers() async throws {
        let levee = Levee(slo: Self.slo)
        let kept = levee.stateChanges()
        let cancelled = levee.stateChanges()
        let received = CoreSignal()
        let consumer = Task {
            var changes: [StateChange] = []
            for await change in cancelled {
                changes.append(change)
                received.fire()
            }
            return changes
        }
        try levee.restore(from: Self.openSnapshot, at: 1)
        await received.wait()
        consumer.cancel()
        let seenByCancelled = await consumer.value
        try levee.restore(from: Self.closedSnapshot, at: 2)
        try levee.restore(from: Self.openSnapshot, at: 3)
        // A subscriber whose stream is simply dropped is unsubscribed too.
        do { _ = levee.stateChanges() }
        try levee.restore(from: Self.closedSnapshot, at: 4)
        #expect(seenByCancelled == [StateChange(from: .closed, to: .open, reason: .restored, at: 1)])
        #expect(await Self.first(4, of: kept).map(\.at) == [1, 2, 3, 4])
    }

    @Test func aSlowSubscriberKeepsTheNewestTransitions() async throws {
        let levee = Levee(slo: Self.slo)
        let stream = levee.stateChanges(bufferSize: 2)
        for instant in 1...5 as ClosedRange<Int64> {
            try levee.restore(from: instant % 2 == 1 ? Self.openSnapshot : Self.closedSnapshot, at: instant)
        }
        #expect(await Self.first(2, of: stream).map(\.at) == [4, 5])
        try levee.restore(from: Self.closedSnapshot, at: 6)
        #expect(await Self.first(1, of: stream).map(\.at) == [6])
    }

    @Test func streamsEndWhenTheLeveeIsDeallocated() async {
        var levee: Levee? = Levee(slo: Self.slo)
        let stream = levee!.stateChanges()
        levee!.addObserver(CoreTransitionRecorder())
        weak let weakLevee = levee
        levee = nil
        #expect(weakLevee == nil)  // neither the stream nor an observer keeps it alive
        var iterator = stream.makeAsyncIterator()
        #expect(await iterator.next() == nil)
    }

    @Test func observersRunSynchronouslyAfterTheLock() throws {
        let levee = Levee(slo: Self.slo)
        let observer = CoreReentrantObserver(acquireInside: true)
        levee.addObserver(observer)
        // Drive the outage call by call: after every call that made a transition, the observer
        // has already run (synchronously), and saw the new state from inside the callback.
        var now: Int64 = 0
        var pending: [(Permit, Int64)] = []
        for index in 0..<25_000 {
            now += coreMillisecond
            let failed = (2_000..<5_000).contains(index)
            pending.removeAll { permit, at in
                guard at <= now else { return false }
                try? levee.release(permit, outcome: failed ? .failure : .success, at: at)
                #expect(observer.recorded.count == levee.statistics.counters.transitions)
                return true
            }
            if let permit = try levee.acquire(at: now).permit { pending.append((permit, now + 3 * coreMillisecond)) }
            #expect(observer.recorded.count == levee.statistics.counters.transitions)
        }
        let calls = observer.recorded
        #expect(calls.count == 2)
        for call in calls {
            #expect(call.stateInside == call.change.to)
            #expect(call.statisticsStateInside == call.change.to)
            #expect(call.change.from.kind != call.change.to.kind)
        }
        #expect(calls.first?.acquiredInside == false)  // open: the re-entrant call was rejected
        #expect(calls.last?.acquiredInside == true)  // closed again: admitted
    }

    @Test func anObserverMayRemoveItselfFromItsCallback() throws {
        let levee = Levee(slo: Self.slo)
        let once = CoreReentrantObserver(removeSelf: true)
        once.token.withLock { $0 = levee.addObserver(once) }
        let always = CoreTransitionRecorder()
        levee.addObserver(always)
        for instant in 1...4 as ClosedRange<Int64> {
            try levee.restore(from: instant % 2 == 1 ? Self.openSnapshot : Self.closedSnapshot, at: instant)
        }
        #expect(once.recorded.map(\.change.at) == [1])
        #expect(always.changes.map(\.at) == [1, 2, 3, 4])
    }

    @Test func removeObserverStopsDelivery() throws {
        let levee = Levee(slo: Self.slo)
        let removed = CoreTransitionRecorder()
        let kept = CoreTransitionRecorder()
        let token = levee.addObserver(removed)
        let keptToken = levee.addObserver(kept)
        #expect(token != keptToken)
        try levee.restore(from: Self.openSnapshot, at: 1)
        levee.removeObserver(token)
        levee.removeObserver(token)  // removing twice is harmless
        try levee.restore(from: Self.closedSnapshot, at: 2)
        #expect(removed.changes.map(\.at) == [1])
        #expect(kept.changes.map(\.at) == [1, 2])
    }

    @Test func onlyChangesOfKindAreAnnounced() throws {
        // Under a latency overload the limit moves often; only closed ↔ throttled is announced.
        let levee = Levee(slo: Self.slo)
        let recorder = CoreTransitionRecorder()
        levee.addObserver(recorder)
        var driver = CoreDriver(levee)
        var limits = Set<Int>()
        driver.run(seconds: 5, rate: 1_000, call: ExplicitTimeTests.queueing())
        driver.run(seconds: 15, rate: 2_500, call: ExplicitTimeTests.queueing()) { _, _ in
            if case .throttled(let limit) = levee.state { limits.insert(limit) }
        }
        driver.run(seconds: 10, rate: 1_000, call: ExplicitTimeTests.queueing())
        #expect(limits.count > 1)
        #expect(recorder.changes.allSatisfy { $0.from.kind != $0.to.kind })
        #expect(recorder.changes.map(\.to.kind) == [.throttled, .closed])
        #expect(levee.statistics.counters.transitions == recorder.changes.count)
    }

    /// Transitions made by different threads must reach subscribers in the order they happened:
    /// a consumer that tracks the state from the stream must end with the Levee's state.
    /// Four OS threads flip the state by restoring snapshots; the run stops at the first
    /// out-of-order delivery (a correct Levee runs all the restores, in a second or two).
    @Test func transitionsArriveInOrderUnderConcurrency() async throws {
        // A small permit table keeps each restore cheap.
        let levee = Levee(slo: Self.slo, options: .init(maximumInFlight: 16))
        let observer = CoreChainObserver()
        levee.addObserver(observer)
        let stream = levee.stateChanges(bufferSize: 1_000_000)
        let (open, closed) = (Self.openSnapshot, Self.closedSnapshot)
        await withTaskGroup(of: Void.self) { group in
            for worker in 0..<4 {
                group.addTask {
                    await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                        let thread = Thread {
                            for index in 0..<25_000 where observer.breaks.isEmpty {
                                try? levee.restore(from: (index + worker) % 2 == 0 ? open : closed)
                            }
                            continuation.resume()
                        }
                        thread.start()
                    }
                }
            }
        }
        #expect(observer.breaks.isEmpty, "delivered out of order: \(observer.breaks.first ?? "")")
        let delivered = await Self.first(observer.count, of: stream)
        let streamBreaks = zip(delivered, delivered.dropFirst()).filter { $0.to.kind != $1.from.kind }
        #expect(streamBreaks.isEmpty, "the stream delivered \(streamBreaks.count) transitions out of order")
        #expect(delivered.last?.to.kind == levee.state.kind)
    }

    @Test func descriptions() {
        let change = StateChange(from: .closed, to: .throttled(limit: 12), reason: .overload, at: 5)
        #expect(change.description == "closed -> throttled(limit: 12) (overload) at 5 ns")
        #expect(LeveeState.throttled(limit: .max).description == "throttled")
        #expect(LeveeState.open.kind == .open)
    }
}
