import Testing
@testable import Levee

/// A full queue does not always refuse calls fast. A server that stops accepting, or a proxy that
/// holds what it cannot place, keeps the overflow until the caller gives up: overload then shows
/// as calls that run out their deadline, while the calls that get through are slow but well
/// inside it. That is admission's doing, the concurrency limiter's to answer as it answers fast
/// refusals. Calls that time out because the dependency is slow or stuck on its own stay the
/// error side's.
@Suite struct DeadlineRefusalTests {
    /// `workers` workers serving a call in `service` nanoseconds each, first come first served, and
    /// room for `room` calls waiting. A call that finds the room full is held until its deadline
    /// and fails there; a call served after its deadline fails at the deadline too.
    final class HoldingQueue {
        let workers: Int
        let service: Int64
        let room: Int
        let deadline: Int64
        private var freeAt: [Int64]
        /// Start instants of the calls waiting, in order (first come, first served).
        private var waiting: [Int64] = []
        private var head = 0

        init(workers: Int, service: Int64, room: Int = 400, deadline: Int64 = coreSecond) {
            self.workers = workers
            self.service = service
            self.room = room
            self.deadline = deadline
            freeAt = Array(repeating: 0, count: workers)
        }

        func call(at now: Int64) -> (latency: Int64, outcome: Outcome) {
            while head < waiting.count, waiting[head] <= now { head += 1 }
            if head > 4_096 {
                waiting.removeFirst(head)
                head = 0
            }
            if waiting.count - head >= room { return (deadline, .failure) }
            let worker = freeAt.indices.min { freeAt[$0] < freeAt[$1] }!
            let start = max(now, freeAt[worker])
            freeAt[worker] = start + service
            if start > now { waiting.append(start) }
            let latency = start + service - now
            return latency >= deadline ? (deadline, .failure) : (latency, .success)
        }

        var timedCall: CoreDriver.TimedCall { { now, _, _ in self.call(at: now) } }
    }

    /// Two dependencies of the same capacity, 2,000 calls a second, with room for 400 waiting.
    enum Service: String, CaseIterable, Sendable {
        /// 200 workers, 100 ms a call: under overload the calls that get in take about 300 ms, so
        /// the overload watch (two spans of five latencies) has not decided when the first
        /// timeouts arrive, and they engage the limit. Before, they opened the circuit, and it
        /// flapped open and closed every second or so: each recovery let the queue fill again.
        case slow
        /// 20 workers, 10 ms a call: latency rises tenfold within a fifth of a second and the watch
        /// engages the limit first. The overflow admitted before it goes on timing out for a
        /// second, while the limit comes down to the floor; those timeouts are still the queue's.
        case fast

        func queue() -> HoldingQueue {
            switch self {
            case .slow: HoldingQueue(workers: 200, service: 100 * coreMillisecond)
            case .fast: HoldingQueue(workers: 20, service: 10 * coreMillisecond)
            }
        }

        /// When the limit engages, at the latest, after the overload starts: the slow service's
        /// first timeouts come a deadline and the time the room took to fill after it.
        var engagedWithin: Int64 { self == .slow ? 1_300 * coreMillisecond : 300 * coreMillisecond }
    }

    @Test(arguments: Service.allCases)
    func queueTimeoutsUnderOverloadEngageTheLimitInsteadOfOpening(_ service: Service) throws {
        let (levee, recorder) = try Levee.coreRecorded(successRate: 0.99)
        let queue = service.queue()
        var driver = CoreDriver(levee)
        let healthy = driver.run(seconds: 5, rate: 1_000, timedCall: queue.timedCall)
        #expect(healthy.rejected == 0)
        #expect(levee.state == .closed)

        // Twice the capacity: the room fills within a fifth of a second, after which half the
        // calls wait out their second and fail.
        let overloadStart = driver.now
        driver.run(seconds: 3, rate: 4_000, timedCall: queue.timedCall)
        let engaged = try #require(recorder.changes.first)
        #expect(engaged.to.kind == .throttled && engaged.reason == .overload)
        #expect(engaged.at - overloadStart <= service.engagedWithin)

        // Once the calls admitted before the limit have timed out, the limit keeps the room from
        // filling, and it does not give the dependency's throughput away.
        driver.expectLimitHoldsOverloadThenReleases(queue.timedCall, recorder: recorder, minimumThroughput: 1_500)
    }

    @Test func probesAndTheRampThatOverflowTheQueueAreHeldByTheLimitWhileOpen() throws {
        let (levee, _) = try Levee.coreRecorded(successRate: 0.99)
        var driver = CoreDriver(levee)
        driver.run(seconds: 5, rate: 1_000, timedCall: HoldingQueue(workers: 200, service: 100 * coreMillisecond).timedCall)
        // Down: everything fails fast, and the circuit opens.
        driver.run(seconds: 2, rate: 1_000, call: CoreDriver.constant(latency: coreMillisecond / 10, failureRate: 1))
        #expect(levee.state == .open)

        // Back with a tenth of its workers (200 calls a second, room for 60 more) under a storm of
        // 4,000 offered a second. Probes succeed and the recovery ramp grows until it overflows
        // the room; the overflow times out a second later. Those timeouts are the queue's: they
        // engage the limit, and each one of a call sent since the last cut halves it again (the
        // gradient does not steer while the circuit is open). Were they neither cuts nor evidence,
        // the ramp would go on growing on the calls that do get served.
        let weak = HoldingQueue(workers: 20, service: 100 * coreMillisecond, room: 60)
        driver.run(seconds: 60, rate: 4_000, timedCall: weak.timedCall)
        let failuresBefore = levee.statistics.counters.failures
        let settled = driver.run(seconds: 10, rate: 4_000, timedCall: weak.timedCall)
        #expect(levee.state.kind == .throttled)
        // Serving what the workers can, with few timeouts.
        #expect(Double(settled.admitted) / 10 >= 150)
        #expect(Double(levee.statistics.counters.failures - failuresBefore) <= 0.05 * Double(settled.admitted))
    }

    @Test func aDependencyThatStopsAnsweringStillOpens() throws {
        var (levee, recorder, driver) = try CoreDriver.afterHealthyTraffic()
        #expect(levee.state == .closed)

        // Every call now hangs until its deadline. A thousand calls are out, far beyond what the
        // healthy latency explains, but no call gets through slowly: nothing says "queue".
        let hangStart = driver.now
        driver.run(seconds: 3, rate: 1_000, call: { _, _ in (coreSecond, .failure) })
        let opened = try #require(recorder.changes.first)
        #expect(opened.to == .open && opened.reason == .dependencyDown)
        #expect(opened.at - hangStart <= 1_100 * coreMillisecond)
    }

    @Test func aSlowDependencyWhoseTailRunsPastTheDeadlineIsTheErrorSides() throws {
        var (levee, recorder, driver) = try CoreDriver.afterHealthyTraffic()
        #expect(levee.state == .closed)

        // Slow on its own: latencies spread evenly from 0.3 to 1.3 s, and the 30 % beyond the
        // one-second deadline fail there. Its successes are as often past half the deadline as
        // its timeouts: that is a tail, not a queue's overflow. The failures open the circuit.
        let slowStart = driver.now
        driver.run(seconds: 5, rate: 1_000, call: { _, rng in
            let latency = Int64((0.3 + rng.uniform()) * 1e9)
            return latency >= coreSecond ? (coreSecond, .failure) : (latency, .success)
        })
        let opened = try #require(recorder.changes.first { $0.to == .open })
        #expect(opened.reason == .dependencyDown)
        #expect(opened.at - slowStart <= 2 * coreSecond)
        #expect(!recorder.changes.contains { $0.reason == .overload })
    }
}
