@testable import Levee

/// A small deterministic discrete-event simulation that drives ``LeveeStateMachine`` on simulated
/// time: Poisson arrivals, Bernoulli failures, and a latency model that can depend on the
/// concurrency Levee admits (so that shedding relieves a queueing dependency).
struct ScenarioDriver {
    enum Latency {
        /// Exponentially distributed around a mean, independent of load.
        case exponential(meanMilliseconds: Double)
        /// A dependency with `capacity` workers: each call takes `base` × max(1, inFlight / capacity),
        /// with in-flight counted when it is admitted. Admission causes the latency.
        case queueing(baseMilliseconds: Double, capacity: Double)
    }

    struct Segment {
        var seconds: Double
        var rate: Double
        var failureRate: Double
        var latency: Latency
    }

    struct Second {
        var offered = 0
        var admitted = 0
        var rejected = 0
        var admittedFailures = 0
        var admittedLatencySum = 0.0
        var completions = 0
        var wasOpen = false
        var wasThrottled = false
        var limit: Int?
    }

    struct Trace {
        var seconds: [Second]
        var transitions: [StateChange]

        /// Admitted share of offered calls over `[from, to)` seconds.
        func admittedShare(from: Int, to: Int) -> Double {
            let slice = seconds[from..<min(to, seconds.count)]
            let offered = slice.reduce(0) { $0 + $1.offered }
            return offered == 0 ? 1 : Double(slice.reduce(0) { $0 + $1.admitted }) / Double(offered)
        }

        func admitted(from: Int, to: Int) -> Int {
            seconds[from..<min(to, seconds.count)].reduce(0) { $0 + $1.admitted }
        }

        func rejected(from: Int, to: Int) -> Int {
            seconds[from..<min(to, seconds.count)].reduce(0) { $0 + $1.rejected }
        }

        /// Mean latency (ms) of calls admitted in `[from, to)` seconds and completed.
        func meanLatency(from: Int, to: Int) -> Double {
            let slice = seconds[from..<min(to, seconds.count)]
            let count = slice.reduce(0) { $0 + $1.completions }
            return count == 0 ? 0 : slice.reduce(0) { $0 + $1.admittedLatencySum } / Double(count)
        }

        /// Seconds (simulated) from `start` until the first transition into `kind`, if any.
        func firstTransition(to kind: LeveeState.Kind, after start: Double) -> Double? {
            transitions.first { $0.to.kind == kind && Double($0.at) / 1e9 >= start }.map { Double($0.at) / 1e9 - start }
        }

        func transitionCount(from: Double, to: Double) -> Int {
            transitions.filter { Double($0.at) / 1e9 >= from && Double($0.at) / 1e9 < to }.count
        }
    }

    private struct Pending: Comparable {
        var end: Int64
        var sequence: Int
        var permit: Permit
        var failed: Bool
        var admittedSecond: Int
        static func < (a: Pending, b: Pending) -> Bool { (a.end, a.sequence) < (b.end, b.sequence) }
        static func == (a: Pending, b: Pending) -> Bool { a.end == b.end && a.sequence == b.sequence }
    }

    var machine: LeveeStateMachine
    private var random: SplitMix64
    private var pending = BinaryHeap<Pending>()

    init(slo: SLO, seed: UInt64 = 1, dryRun: Bool = false) {
        machine = LeveeStateMachine(slo: slo, configuration: .init(dryRun: dryRun, maximumInFlight: 1 << 16))
        random = SplitMix64(seed: seed)
    }

    mutating func run(_ segments: [Segment], everySecond observe: ((Int, LeveeStateMachine) -> Void)? = nil) -> Trace {
        let total = Int(segments.reduce(0) { $0 + $1.seconds }.rounded(.up)) + 1
        var seconds = [Second](repeating: Second(), count: total)
        var transitions: [StateChange] = []
        var now: Int64 = 0
        var sequence = 0
        var segmentStart: Int64 = 0
        for segment in segments {
            let segmentEnd = segmentStart + Int64(segment.seconds * 1e9)
            var next = segmentStart + gap(segment.rate)
            while next < segmentEnd {
                // Completions due at or before the arrival come first.
                while let first = pending.peek(), first.end <= next {
                    let done = pending.pop()!
                    now = done.end
                    if let change = try! machine.release(done.permit, outcome: done.failed ? .failure : .success, at: now) {
                        transitions.append(change)
                    }
                    let latency = Double(done.end - done.permit.acquiredAt) / 1e6
                    seconds[done.admittedSecond].admittedLatencySum += latency
                    seconds[done.admittedSecond].completions += 1
                }
                now = next
                let second = Int(now / 1_000_000_000)
                if let observe, seconds[second].offered == 0 { observe(second, machine) }
                seconds[second].offered += 1
                let inFlight = machine.permits.inFlight
                let (admission, change) = try! machine.acquire(at: now)
                if let change { transitions.append(change) }
                switch machine.state {
                case .open: seconds[second].wasOpen = true
                case .throttled(let limit): seconds[second].wasThrottled = true; seconds[second].limit = limit
                case .closed: break
                }
                if case .admitted(let permit) = admission {
                    seconds[second].admitted += 1
                    let failed = random.uniform() < segment.failureRate
                    if failed { seconds[second].admittedFailures += 1 }
                    let milliseconds: Double
                    switch segment.latency {
                    case .exponential(let mean):
                        milliseconds = -mean * log(1 - random.uniform())
                    case .queueing(let base, let capacity):
                        milliseconds = base * max(1, Double(inFlight + 1) / capacity) * (0.5 + random.uniform())
                    }
                    sequence += 1
                    pending.push(Pending(end: now + max(1, Int64(milliseconds * 1e6)), sequence: sequence,
                                         permit: permit, failed: failed, admittedSecond: second))
                } else {
                    seconds[second].rejected += 1
                }
                next += gap(segment.rate)
            }
            segmentStart = segmentEnd
        }
        while let done = pending.pop() {
            if let change = try! machine.release(done.permit, outcome: done.failed ? .failure : .success, at: done.end) {
                transitions.append(change)
            }
        }
        return Trace(seconds: seconds, transitions: transitions)
    }

    private mutating func gap(_ rate: Double) -> Int64 {
        max(1, Int64(-log(1 - random.uniform()) / rate * 1e9))
    }
}

/// SplitMix64: tiny, fast, and deterministic per seed, so every "random" test input is reproducible.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func uniform() -> Double { Double(next() >> 11) * 0x1p-53 }
    /// True with probability `p`.
    mutating func chance(_ p: Double) -> Bool { uniform() < p }
}

/// A minimal binary min-heap.
struct BinaryHeap<Element: Comparable> {
    private var storage: [Element] = []
    var isEmpty: Bool { storage.isEmpty }
    func peek() -> Element? { storage.first }

    mutating func push(_ element: Element) {
        storage.append(element)
        var child = storage.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard storage[child] < storage[parent] else { break }
            storage.swapAt(child, parent)
            child = parent
        }
    }

    mutating func pop() -> Element? {
        guard !storage.isEmpty else { return nil }
        storage.swapAt(0, storage.count - 1)
        let top = storage.removeLast()
        var parent = 0
        while true {
            let left = 2 * parent + 1, right = left + 1
            var smallest = parent
            if left < storage.count, storage[left] < storage[smallest] { smallest = left }
            if right < storage.count, storage[right] < storage[smallest] { smallest = right }
            if smallest == parent { break }
            storage.swapAt(parent, smallest)
            parent = smallest
        }
        return top
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
