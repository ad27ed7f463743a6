/// Reference values from the Go loadgen, for checking that ``GeneratorMode/goCompatible``
/// reproduces its request stream bit for bit.
///
/// The long checks generate tens of millions of requests: run them from a release build
/// (about a second each there), not from a debug `swift test`.
public enum GoCompatibilityCheck {
    /// The seed of the Go Levee open-loop benchmark.
    public static let seed: UInt64 = 20_241_225

    /// Counts over a prefix of a generated request stream.
    public struct RequestTally: Sendable, Hashable {
        public var requests: Int64 = 0
        public var successes: Int64 = 0
        public var errors: Int64 = 0
        /// The sum of the requests' durations, in nanoseconds.
        public var durationSumNanoseconds: Int64 = 0

        public init() {}

        mutating func add(_ request: GeneratedRequest) {
            requests += 1
            if request.isSuccess { successes += 1 } else { errors += 1 }
            durationSumNanoseconds &+= request.duration
        }
    }

    /// What the Go original produced; `nil` fields were not published.
    public struct ExpectedTally: Sendable, Hashable {
        public var requests: Int64?
        public var successes: Int64?
        public var errors: Int64?
        public var durationSumNanoseconds: Int64?

        public init(
            requests: Int64? = nil, successes: Int64? = nil, errors: Int64? = nil, durationSumNanoseconds: Int64? = nil
        ) {
            self.requests = requests
            self.successes = successes
            self.errors = errors
            self.durationSumNanoseconds = durationSumNanoseconds
        }
    }

    /// One named check: a scenario prefix, the Go values and what this port produced.
    public struct CheckResult: Sendable, Hashable, CustomStringConvertible {
        public var name: String
        public var expected: ExpectedTally
        public var actual: RequestTally
        /// Wall-clock time the generation took.
        public var elapsed: Duration

        /// The fields that differ from Go, as readable lines; empty when the check passes.
        public var mismatches: [String] {
            var lines: [String] = []
            func compare(_ field: String, _ expected: Int64?, _ actual: Int64) {
                if let expected, expected != actual {
                    lines.append("\(field): expected \(expected), got \(actual)")
                }
            }
            compare("requests", expected.requests, actual.requests)
            compare("successes", expected.successes, actual.successes)
            compare("errors", expected.errors, actual.errors)
            compare("duration sum (ns)", expected.durationSumNanoseconds, actual.durationSumNanoseconds)
            return lines
        }

        public var passed: Bool { mismatches.isEmpty }

        public var description: String {
            let verdict = passed ? "PASS" : "FAIL"
            var text = "\(verdict) \(name): \(actual.requests) requests, \(actual.successes) successes, "
                + "\(actual.errors) errors, duration sum \(actual.durationSumNanoseconds) ns (\(elapsed))"
            for mismatch in mismatches { text += "\n  \(mismatch)" }
            return text
        }
    }

    /// A check to run: the first `limit` requests of a scenario (all of them when `nil`).
    public struct Check: Sendable {
        public var name: String
        public var scenario: Scenario
        public var limit: Int?
        public var expected: ExpectedTally

        public init(name: String, scenario: Scenario, limit: Int?, expected: ExpectedTally) {
            self.name = name
            self.scenario = scenario
            self.limit = limit
            self.expected = expected
        }
    }

    /// The published reference values, quickest first.
    public static var checks: [Check] {
        [
            Check(
                name: "weekly traffic, first 1,000 requests", scenario: .weeklyTraffic, limit: 1_000,
                expected: ExpectedTally(
                    requests: 1_000, successes: 944, errors: 56, durationSumNanoseconds: 146_561_484_688)),
            Check(
                name: "weekly traffic, first 25,000,000 requests", scenario: .weeklyTraffic, limit: 25_000_000,
                expected: ExpectedTally(
                    requests: 25_000_000, successes: 23_750_694, errors: 1_249_306,
                    durationSumNanoseconds: 5_459_275_266_630_910)),
            Check(
                name: "Cyber Monday, every request", scenario: .cyberMonday, limit: nil,
                expected: ExpectedTally(requests: 56_525_160)),
        ]
    }

    /// Runs one check with the Go-compatible generator and seed 20241225.
    public static func run(_ check: Check) -> CheckResult {
        let clock = ContinuousClock()
        let began = clock.now
        var generator = LoadGenerator(scenario: check.scenario, seed: seed, mode: .goCompatible)
        var tally = RequestTally()
        let limit = check.limit ?? .max
        while tally.requests < limit, let request = generator.next() {
            tally.add(request)
        }
        return CheckResult(name: check.name, expected: check.expected, actual: tally, elapsed: clock.now - began)
    }

    /// Runs every check in ``checks``, in order.
    public static func run() -> [CheckResult] {
        checks.map { run($0) }
    }
}
