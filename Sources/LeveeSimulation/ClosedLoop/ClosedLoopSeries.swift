import Levee
import Synchronization

/// One candidate's closed-loop run of one seed as time series, for the report: fixed-width
/// buckets of simulated time, at most ``ClosedLoopSeriesRecorder/maximumBuckets`` of them.
///
/// Counts are per bucket (divide by ``bucketSeconds`` for a rate). Shares are fractions of the
/// bucket; backend gauges are the largest value seen at a decision in the bucket, because a
/// peak is what a reader looks for.
public struct ClosedLoopSeries: Sendable, Hashable {
    public var identifier: String
    public var name: String
    public var bucketSeconds: Int
    /// Exogenous requests (first attempts), by arrival time.
    public var exogenous: [Int32]
    /// Attempts offered to the candidate (first attempts and retries), by send time.
    public var attempts: [Int32]
    /// Attempts the candidate admitted, by send time.
    public var admitted: [Int32]
    /// Admitted attempts that succeeded, and that failed or timed out, by the time the client saw it.
    public var succeeded: [Int32]
    public var failed: [Int32]
    /// Requests that succeeded within the SLO timeout of their arrival, by arrival time (the
    /// attribution the SLO-attainment score uses).
    public var goodput: [Int32]
    /// Decisions taken by an instance reporting THROTTLED or OPEN (CLOSED is the rest of
    /// ``attempts``): a share of decisions, not of time, so it is exact with many instances.
    public var throttledDecisions: [Int32]
    public var openDecisions: [Int32]
    /// The most replicas, smoothed load and queued requests seen at a decision in the bucket.
    public var replicas: [Int32]
    public var load: [Float]
    public var queued: [Int32]
    /// Nanoseconds of the bucket the backend was down (crashed), between decisions.
    public var downNanoseconds: [Int64]

    public var count: Int { attempts.count }
}

/// Records ``ClosedLoopSeries`` during a run. Its arrays are allocated once, so recording does
/// not allocate per event; a run that is not reported carries none (the simulation holds an
/// optional recorder).
struct ClosedLoopSeriesRecorder {
    /// Enough points for a chart 1,100 pixels wide and for zooms at a few seconds' resolution.
    static let maximumBuckets = 20_000

    private(set) var series: ClosedLoopSeries
    private let bucketNanoseconds: Int64
    private var lastSample: Int64 = 0
    private var wasCrashed = false

    /// The bucket width for a run of `seconds`: one second, or the fewest whole seconds that keep
    /// the run (plus a drain margin) within the bucket limit.
    static func bucketSeconds(forRunSeconds seconds: Int) -> Int {
        max(1, (seconds + maximumBuckets - 1) / maximumBuckets)
    }

    init(scenario: Scenario, identifier: String, name: String) {
        let runSeconds = Int((scenario.totalDurationNanoseconds + 999_999_999) / 1_000_000_000)
        let width = Self.bucketSeconds(forRunSeconds: runSeconds)
        // Events after the scenario's end (retries, deadlines, drain) land in a few spare buckets;
        // anything later is clamped into the last one.
        let count = (runSeconds + width - 1) / width + 2
        bucketNanoseconds = Int64(width) * 1_000_000_000
        func zeros() -> [Int32] { Array(repeating: 0, count: count) }
        series = ClosedLoopSeries(
            identifier: identifier, name: name, bucketSeconds: width, exogenous: zeros(), attempts: zeros(),
            admitted: zeros(), succeeded: zeros(), failed: zeros(), goodput: zeros(), throttledDecisions: zeros(),
            openDecisions: zeros(), replicas: zeros(), load: Array(repeating: 0, count: count), queued: zeros(),
            downNanoseconds: Array(repeating: 0, count: count))
    }

    @inline(__always)
    func bucket(_ time: Int64) -> Int {
        min(max(0, Int(time / bucketNanoseconds)), series.attempts.count - 1)
    }

    @inline(__always)
    mutating func arrival(at time: Int64) {
        series.exogenous[bucket(time)] &+= 1
    }

    /// A decision by an instance, with the backend's state just advanced to `time`.
    @inline(__always)
    mutating func decision(admitted: Bool, state: LeveeState.Kind, at time: Int64,
                           replicas: Int, load: Double, queued: Int, crashed: Bool) {
        let index = bucket(time)
        series.attempts[index] &+= 1
        if admitted { series.admitted[index] &+= 1 }
        switch state {
        case .closed: break
        case .throttled: series.throttledDecisions[index] &+= 1
        case .open: series.openDecisions[index] &+= 1
        }
        series.replicas[index] = max(series.replicas[index], Int32(clamping: replicas))
        series.load[index] = max(series.load[index], Float(load))
        series.queued[index] = max(series.queued[index], Int32(clamping: queued))
        if wasCrashed { addDown(from: lastSample, to: time) }
        lastSample = time
        wasCrashed = crashed
    }

    @inline(__always)
    mutating func outcome(succeeded: Bool, at time: Int64) {
        if succeeded { series.succeeded[bucket(time)] &+= 1 } else { series.failed[bucket(time)] &+= 1 }
    }

    @inline(__always)
    mutating func good(arrivalTime: Int64) {
        series.goodput[bucket(arrivalTime)] &+= 1
    }

    /// Spreads a down interval over the buckets it covers.
    private mutating func addDown(from start: Int64, to end: Int64) {
        var cursor = start
        while cursor < end {
            let index = bucket(cursor)
            let bucketEnd = index == series.attempts.count - 1 ? end : Int64(index + 1) * bucketNanoseconds
            let stop = min(end, bucketEnd)
            series.downNanoseconds[index] &+= stop - cursor
            cursor = stop
        }
    }
}

/// Where runs deposit their series; shared by the worker threads of one benchmark.
final class ClosedLoopSeriesSink: Sendable {
    private let stored = Mutex<[String: ClosedLoopSeries]>([:])

    func store(_ series: ClosedLoopSeries) {
        stored.withLock { $0[series.identifier] = series }
    }

    func series(for identifier: String) -> ClosedLoopSeries? {
        stored.withLock { $0[identifier] }
    }
}
