/// Multi-scale estimate of a dependency's failure rate, fast after a change and precise when
/// steady, with fixed memory and no configuration.
///
/// Five exponentially weighted averages of the outcome (1 = failure) forget at 16, 64, 256, 1024
/// and 4096 completions. Long memories are precise but stale after a change; short ones are
/// current but noisy. After each evaluation, a longer scale that disagrees with the next shorter
/// one beyond chance is declared stale and replaced by it, so the longest scale always holds the
/// most precise estimate that is consistent with recent evidence (in the spirit of ADWIN and of
/// multi-window burn-rate alerting). Memory is counted in completions, not seconds, so the same
/// estimator serves 1 call per second and 5,000.
struct OutcomeEstimator: Hashable, Sendable {
    static let scaleCount = 5
    /// Completions each scale remembers (its EWMA weight is 1/horizon).
    static let horizons: (Double, Double, Double, Double, Double) = (16, 64, 256, 1024, 4096)
    /// z² of the two-sample staleness test (z ≈ 4.75, one chance in a million per look).
    static let staleZSquared = 22.6

    /// Failure-rate estimate per scale.
    var rates: (Double, Double, Double, Double, Double) = (0, 0, 0, 0, 0)
    /// Completions seen per scale since it was last reset (saturating at 2 × horizon, the EWMA's
    /// effective sample size).
    var counts: (Double, Double, Double, Double, Double) = (0, 0, 0, 0, 0)
    /// Whether every count is known to sit at its cap (2 × horizon), so that `record` may take
    /// plain EWMA steps. `record` and `reconcile` recompute it; `seed`, `reset` and a restore
    /// clear it. Not part of the value (see `==`).
    private var saturated = false

    /// Records one completion.
    mutating func record(failure: Bool) {
        let x: Double = failure ? 1 : 0
        // The usual case: every scale has its full weight, so each takes a plain EWMA step (what
        // `update` does then, without its two tests per scale).
        if saturated {
            rates.0 += (x - rates.0) * (1 / Self.horizons.0)
            rates.1 += (x - rates.1) * (1 / Self.horizons.1)
            rates.2 += (x - rates.2) * (1 / Self.horizons.2)
            rates.3 += (x - rates.3) * (1 / Self.horizons.3)
            rates.4 += (x - rates.4) * (1 / Self.horizons.4)
            return
        }
        Self.update(&rates.0, &counts.0, x, Self.horizons.0)
        Self.update(&rates.1, &counts.1, x, Self.horizons.1)
        Self.update(&rates.2, &counts.2, x, Self.horizons.2)
        Self.update(&rates.3, &counts.3, x, Self.horizons.3)
        Self.update(&rates.4, &counts.4, x, Self.horizons.4)
        saturated = countsAtCap
    }

    private var countsAtCap: Bool {
        counts.0 == 2 * Self.horizons.0 && counts.1 == 2 * Self.horizons.1 && counts.2 == 2 * Self.horizons.2
            && counts.3 == 2 * Self.horizons.3 && counts.4 == 2 * Self.horizons.4
    }

    @inline(__always)
    private static func update(_ rate: inout Double, _ count: inout Double, _ x: Double, _ horizon: Double) {
        // Until a scale has seen `horizon` samples it is a plain mean; then an EWMA of weight 1/horizon.
        if count < horizon {
            count += 1
            rate += (x - rate) / count
        } else {
            rate += (x - rate) * (1 / horizon)  // a constant: folded at compile time
            if count < 2 * horizon { count += 1 }
        }
    }

    /// Replaces every scale that is inconsistent with the next shorter one.
    mutating func reconcile() {
        withUnsafeMutableBytes(of: &rates) { rateBytes in
            withUnsafeMutableBytes(of: &counts) { countBytes in
                let r = rateBytes.bindMemory(to: Double.self)
                let n = countBytes.bindMemory(to: Double.self)
                for longer in 1..<Self.scaleCount {
                    let shorter = longer - 1
                    if Self.disagree(r[shorter], n[shorter], r[longer], n[longer]) {
                        for stale in longer..<Self.scaleCount {
                            r[stale] = r[shorter]
                            n[stale] = n[shorter]
                        }
                        return
                    }
                }
            }
        }
        saturated = countsAtCap
    }

    /// Two-sample test with Agresti–Coull variances: conservative at small counts and at rates
    /// near 0 or 1, and free of logarithms so it is cheap enough to run often.
    @inline(__always)
    static func disagree(_ p1: Double, _ n1: Double, _ p2: Double, _ n2: Double) -> Bool {
        guard n1 > 0, n2 > 0 else { return false }
        let difference = p1 - p2
        let z2 = staleZSquared
        let m1 = n1 + z2, m2 = n2 + z2
        let q1 = (n1 * p1 + z2 / 2) / m1
        let q2 = (n2 * p2 + z2 / 2) / m2
        let variance = q1 * (1 - q1) / m1 + q2 * (1 - q2) / m2
        return difference * difference > z2 * variance
    }

    /// The decision estimate: the longest scale (consistent with the shorter ones once reconciled).
    var rate: Double { rates.4 }
    /// Completions behind ``rate``.
    var sampleCount: Double { counts.4 }

    /// Replaces every scale with fresh evidence: `samples` outcomes at failure rate `rate`.
    mutating func seed(rate: Double, samples: Double) {
        rates = (rate, rate, rate, rate, rate)
        counts = (min(samples, 32), min(samples, 128), min(samples, 512), min(samples, 2048), min(samples, 8192))
        saturated = false
    }

    /// Forgets everything.
    mutating func reset() {
        self = OutcomeEstimator()
    }
}

extension OutcomeEstimator {
    static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.rateArray == rhs.rateArray && lhs.countArray == rhs.countArray
    }

    func hash(into hasher: inout Hasher) {
        hasher.combine(rateArray)
        hasher.combine(countArray)
    }

    var rateArray: [Double] { [rates.0, rates.1, rates.2, rates.3, rates.4] }
    var countArray: [Double] { [counts.0, counts.1, counts.2, counts.3, counts.4] }

    init(rates: [Double], counts: [Double]) {
        precondition(rates.count == Self.scaleCount && counts.count == Self.scaleCount)
        self.rates = (rates[0], rates[1], rates[2], rates[3], rates[4])
        self.counts = (counts[0], counts[1], counts[2], counts[3], counts[4])
    }
}
