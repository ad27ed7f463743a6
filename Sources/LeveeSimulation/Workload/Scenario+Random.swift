#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A family of seeded synthetic scenarios: traffic no candidate was developed on.
///
/// Cyber Monday is one day with three incidents. A breaker tuned on it could do well there and
/// badly elsewhere; `Scenario.random(seed:)` draws other days from the same vocabulary, so that
/// any candidate can be checked on as many unseen ones as it takes. Each is 1.7 to 6 hours (seeds
/// 0–499) of a service with its own base rate (20–1,500 calls a second), base error rate (0.1–3 %),
/// median latency (10–200 ms), tail (p99 two to five times the median) and timeout, calm for 10–40
/// minutes before and after each of four to eight events drawn from six kinds:
///
/// - **outage**: 30–100 % failures at 0.5–8 times the latency and 1–4 times the calls, for 1–10
///   minutes; in three cases out of five a retry storm follows (up to half as many calls again,
///   1–5 minutes); then a recovery at 1–2.5 times the base rate failing up to 8 %;
/// - **healthy spike**: 1.5–4 times the calls failing up to 9 % at up to 2.5 times the latency,
///   for 1–5 minutes, then three one-minute steps back;
/// - **partial degradation**: 12–20 % failures for 2–10 minutes;
/// - **slow onset**: 5, 12, 25 and 50 % failures for 30–120 s each, the latency rising with them;
/// - **lull**: 5–40 % of the base rate for 5–20 minutes;
/// - **flapping**: three to six alternations of 10–60 s failing 30–80 % and 10–60 s healthy.
///
/// Every scenario has at least one outage. The failure rates are set against a 90 % SLO: 9 % is
/// healthy there, 12 % is not. The same seed gives the same scenario with every toolchain: the
/// draws are 53-bit uniforms from the project's own xoshiro256++, not the standard library's
/// `random(in:)`, whose algorithm is unspecified.
extension Scenario {
    /// The scenario drawn from `seed`, named `random-<seed>`.
    ///
    /// - Throws: ``ScenarioError`` only if a drawn phase broke the rules every phase must keep
    ///   (a bug: the draws are clamped so that none does).
    public static func random(seed: UInt64) throws(ScenarioError) -> Scenario {
        var draw = ScenarioDraw(seed: seed)
        let service = RandomService(draw: &draw)
        var phases: [Phase] = []
        var kinds = (0..<draw.integer(in: 4...8)).map { _ in RandomEvent.allCases[draw.index(RandomEvent.allCases.count)] }
        if !kinds.contains(.outage) { kinds[draw.index(kinds.count)] = .outage }
        for kind in kinds {
            try phases.append(service.phase("calm", seconds: draw.uniform(600, 2_400),
                                            rate: draw.uniform(0.8, 1.25), errorRate: service.errorRate))
            try phases += service.phases(of: kind, draw: &draw)
        }
        try phases.append(service.phase("calm", seconds: draw.uniform(600, 2_400), rate: 1, errorRate: service.errorRate))
        return try Scenario(name: "random-\(seed)", phases: phases)
    }
}

/// The kinds of event ``Scenario/random(seed:)`` draws from, equally likely.
enum RandomEvent: CaseIterable {
    case outage, healthySpike, partialDegradation, slowOnset, lull, flapping
}

/// The service a random scenario describes: what calm looks like.
struct RandomService {
    /// Calls a second when calm.
    let rate: Double
    let errorRate: Double
    let p50Milliseconds: Double
    /// p99 as a multiple of p50.
    let tail: Double
    let timeoutMilliseconds: Double

    init(draw: inout ScenarioDraw) {
        rate = draw.logUniform(20, 1_500)
        errorRate = draw.uniform(0.001, 0.03)
        p50Milliseconds = draw.logUniform(10, 200)
        tail = draw.uniform(2, 5)
        timeoutMilliseconds = max(1_000, (p50Milliseconds * tail * draw.uniform(1.5, 4)).rounded(.up))
    }

    func phases(of kind: RandomEvent, draw: inout ScenarioDraw) throws(ScenarioError) -> [Phase] {
        var phases: [Phase] = []
        switch kind {
        case .outage:
            let failing = draw.uniform(0.3, 1)
            let slower = draw.uniform(0.5, 8)
            let calls = draw.uniform(1, 4)
            try phases.append(phase("outage", seconds: draw.uniform(60, 600), rate: calls, errorRate: failing, latency: slower))
            if draw.uniform(0, 1) < 0.6 {
                try phases.append(phase("retry storm", seconds: draw.uniform(60, 300), rate: calls * draw.uniform(1, 1.5),
                                        errorRate: min(1, failing * draw.uniform(0.8, 1.2)), latency: slower))
            }
            try phases.append(phase("recovery", seconds: draw.uniform(60, 600), rate: draw.uniform(1, 2.5),
                                    errorRate: draw.uniform(errorRate, 0.08), latency: draw.uniform(0.8, 2)))
        case .healthySpike:
            let calls = draw.uniform(1.5, 4)
            let failing = draw.uniform(errorRate, 0.09)
            let slower = draw.uniform(1, 2.5)
            try phases.append(phase("healthy spike", seconds: draw.uniform(60, 300), rate: calls, errorRate: failing, latency: slower))
            for step in [0.75, 0.5, 0.25] {
                try phases.append(phase("spike decay", seconds: 60, rate: 1 + (calls - 1) * step,
                                        errorRate: errorRate + (failing - errorRate) * step, latency: 1 + (slower - 1) * step))
            }
        case .partialDegradation:
            try phases.append(phase("partial degradation", seconds: draw.uniform(120, 600), rate: draw.uniform(0.8, 1.5),
                                    errorRate: draw.uniform(0.12, 0.2), latency: draw.uniform(1, 2)))
        case .slowOnset:
            for (step, failing) in [0.05, 0.12, 0.25, 0.5].enumerated() {
                try phases.append(phase("slow onset", seconds: draw.uniform(30, 120), rate: 1, errorRate: failing,
                                        latency: 1 + 0.5 * Double(step)))
            }
        case .lull:
            try phases.append(phase("lull", seconds: draw.uniform(300, 1_200), rate: draw.uniform(0.05, 0.4),
                                    errorRate: errorRate, latency: draw.uniform(0.7, 1.2)))
        case .flapping:
            for _ in 0..<draw.integer(in: 3...6) {
                try phases.append(phase("flapping, failing", seconds: draw.uniform(10, 60), rate: 1,
                                        errorRate: draw.uniform(0.3, 0.8), latency: draw.uniform(1, 3)))
                try phases.append(phase("flapping, healthy", seconds: draw.uniform(10, 60), rate: 1, errorRate: errorRate))
            }
        }
        return phases
    }

    /// A phase at `rate` times the calm rate and `latency` times the calm median. The median is
    /// held low enough that the p99 stays under the timeout with room to spare.
    func phase(_ label: String, seconds: Double, rate: Double, errorRate: Double, latency: Double = 1) throws(ScenarioError) -> Phase {
        let p50 = min(p50Milliseconds * latency, timeoutMilliseconds / (tail * 1.05))
        return try Phase(label: label, durationSeconds: seconds.rounded(), rpm: max(1, Int(self.rate * rate * 60)),
                         errorRate: min(max(errorRate, 0), 1),
                         p50Milliseconds: p50, p99Milliseconds: p50 * tail, timeoutMilliseconds: timeoutMilliseconds)
    }
}

/// The draws of a random scenario: uniforms from xoshiro256++, 53 bits each.
struct ScenarioDraw {
    private var generator: Xoshiro256PlusPlus

    init(seed: UInt64) { generator = Xoshiro256PlusPlus(seed: seed) }

    mutating func uniform(_ low: Double, _ high: Double) -> Double {
        low + (high - low) * unitUniform(&generator)
    }

    mutating func logUniform(_ low: Double, _ high: Double) -> Double {
        exp(uniform(log(low), log(high)))
    }

    mutating func index(_ count: Int) -> Int {
        min(Int(uniform(0, Double(count))), count - 1)
    }

    mutating func integer(in range: ClosedRange<Int>) -> Int {
        range.lowerBound + index(range.count)
    }
}
