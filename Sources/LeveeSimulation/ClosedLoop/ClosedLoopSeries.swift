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

/// Records ``ClosedLoopSeries`` during a run. Its table is allocated once, so recording does
/// not allocate per event; a run that is not reported carries none (the simulation holds an
/// optional recorder).
struct ClosedLoopSeriesRecorder {
    /// Enough points for a chart 1,100 pixels wide and for zooms at a few seconds' resolution.
    static let maximumBuckets = 20_000

    /// One bucket's counters side by side, so that an event touches one table entry.
    private struct Bucket {
        var exogenous: Int32 = 0
        var attempts: Int32 = 0
        var admitted: Int32 = 0
        var succeeded: Int32 = 0
        var failed: Int32 = 0
        var goodput: Int32 = 0
        var throttled: Int32 = 0
        var open: Int32 = 0
        var replicas: Int32 = 0
        var queued: Int32 = 0
        var load: Float = 0
        var downNanoseconds: Int64 = 0
    }

    private var buckets: ContiguousArray<Bucket>
    private let bucketNanoseconds: Int64
    private let identifier: String
    private let name: String
    private var lastSample: Int64 = 0
    private var wasCrashed = false

    /// The bucket width for a run of `seconds`: one second, or the fewest whole seconds that keep
    /// the run within the bucket limit.
    static func bucketSeconds(forRunSeconds seconds: Int) -> Int {
        max(1, (seconds + maximumBuckets - 1) / maximumBuckets)
    }

    init(scenario: Scenario, identifier: String, name: String) {
        let runSeconds = Int((scenario.totalDurationNanoseconds + 999_999_999) / 1_000_000_000)
        let width = Self.bucketSeconds(forRunSeconds: runSeconds)
        // Events after the scenario's end (retries, deadlines, drain) land in a few spare buckets;
        // anything later is clamped into the last one.
        buckets = ContiguousArray(repeating: Bucket(), count: (runSeconds + width - 1) / width + 2)
        bucketNanoseconds = Int64(width) * 1_000_000_000
        self.identifier = identifier
        self.name = name
    }

    /// The series recorded so far.
    var series: ClosedLoopSeries {
        func column<Value>(_ value: (Bucket) -> Value) -> [Value] { buckets.map(value) }
        return ClosedLoopSeries(
            identifier: identifier, name: name, bucketSeconds: Int(bucketNanoseconds / 1_000_000_000),
            exogenous: column(\.exogenous), attempts: column(\.attempts), admitted: column(\.admitted),
            succeeded: column(\.succeeded), failed: column(\.failed), goodput: column(\.goodput),
            throttledDecisions: column(\.throttled), openDecisions: column(\.open), replicas: column(\.replicas),
            load: column(\.load), queued: column(\.queued), downNanoseconds: column(\.downNanoseconds))
    }

    @inline(__always)
    func bucket(_ time: Int64) -> Int {
        min(max(0, Int(time / bucketNanoseconds)), buckets.count - 1)
    }

    @inline(__always)
    mutating func arrival(at time: Int64) {
        buckets[bucket(time)].exogenous &+= 1
    }

    /// A decision by an instance, with the backend's state just advanced to `time`.
    @inline(__always)
    mutating func decision(admitted: Bool, state: LeveeState.Kind, at time: Int64,
                           replicas: Int, load: Double, queued: Int, crashed: Bool) {
        if wasCrashed { addDown(from: lastSample, to: time) }
        lastSample = time
        wasCrashed = crashed
        let index = bucket(time)
        buckets.withUnsafeMutableBufferPointer { table in
            table[index].attempts &+= 1
            if admitted { table[index].admitted &+= 1 }
            switch state {
            case .closed: break
            case .throttled: table[index].throttled &+= 1
            case .open: table[index].open &+= 1
            }
            table[index].replicas = max(table[index].replicas, Int32(clamping: replicas))
            table[index].load = max(table[index].load, Float(load))
            table[index].queued = max(table[index].queued, Int32(clamping: queued))
        }
    }

    @inline(__always)
    mutating func outcome(succeeded: Bool, at time: Int64) {
        if succeeded { buckets[bucket(time)].succeeded &+= 1 } else { buckets[bucket(time)].failed &+= 1 }
    }

    @inline(__always)
    mutating func good(arrivalTime: Int64) {
        buckets[bucket(arrivalTime)].goodput &+= 1
    }

    /// Spreads a down interval over the buckets it covers.
    private mutating func addDown(from start: Int64, to end: Int64) {
        var cursor = start
        while cursor < end {
            let index = bucket(cursor)
            let bucketEnd = index == buckets.count - 1 ? end : Int64(index + 1) * bucketNanoseconds
            let stop = min(end, bucketEnd)
            buckets[index].downNanoseconds &+= stop - cursor
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

extension ClosedLoopSeedSeries {
    /// The series as CSV, one row per candidate and bucket, for analysis outside the report.
    public var csv: String {
        var text = "candidate,bucket_start_s,exogenous,attempts,admitted,succeeded,failed,goodput,"
            + "throttled_decisions,open_decisions,replicas,load,queued,down_ms\n"
        for series in candidates {
            for index in 0..<series.count {
                let fields: [String] = [
                    series.identifier, String(index * series.bucketSeconds),
                    String(series.exogenous[index]), String(series.attempts[index]), String(series.admitted[index]),
                    String(series.succeeded[index]), String(series.failed[index]), String(series.goodput[index]),
                    String(series.throttledDecisions[index]), String(series.openDecisions[index]),
                    String(series.replicas[index]), String(series.load[index]), String(series.queued[index]),
                    String(series.downNanoseconds[index] / 1_000_000),
                ]
                text += fields.joined(separator: ",") + "\n"
            }
        }
        return text
    }
}
