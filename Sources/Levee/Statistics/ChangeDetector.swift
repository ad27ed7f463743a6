/// Fast detection of a failure rate above the SLO's budget: a bank of CUSUM tests.
///
/// CUSUM (Page, 1954) is the optimal sequential detector of a change in a rate: for a given
/// false-alarm rate, no test notices the change sooner. Each detector of the bank accumulates,
/// outcome by outcome, the log-likelihood ratio of an alternative failure rate against the budget,
/// floored at zero, and fires when the sum exceeds `threshold` nats. The alternatives run
/// geometrically from the "down" rate to near 100 %, so a 60 % outage is caught by the detector
/// tuned for it within a couple of dozen outcomes, and a mild excess by the one tuned near the budget.
///
/// Each detector also counts the outcomes and failures of its current run (since its sum was last
/// zero): when it fires, that run is the freshest evidence of the new rate.
struct ChangeDetector: Hashable, Sendable {
    static let capacity = 6

    /// Per detector: evidence increment for a failure and for a success.
    private var failureStep: (Double, Double, Double, Double, Double, Double) = (0, 0, 0, 0, 0, 0)
    private var successStep: (Double, Double, Double, Double, Double, Double) = (0, 0, 0, 0, 0, 0)
    private var evidence: (Double, Double, Double, Double, Double, Double) = (0, 0, 0, 0, 0, 0)
    private var runLength: (Double, Double, Double, Double, Double, Double) = (0, 0, 0, 0, 0, 0)
    private var runFailures: (Double, Double, Double, Double, Double, Double) = (0, 0, 0, 0, 0, 0)
    private(set) var count = 0
    let threshold: Double

    /// - Parameters:
    ///   - budget: the failure rate the SLO tolerates.
    ///   - lowestAlternative: the smallest failure rate to detect quickly (Levee's "down" rate).
    ///   - threshold: nats of evidence to fire; `ln(1/α)` bounds the false-alarm rate at the budget.
    init(budget: Double, lowestAlternative: Double, threshold: Double) {
        self.threshold = threshold
        let highest = 0.95
        let span = highest / lowestAlternative
        let count = span <= 1 ? 1 : min(Self.capacity, max(1, Int((naturalLog(span) / naturalLog(2)).rounded(.up))))
        let ratio = count > 1 ? naturalExp(naturalLog(span) / Double(count - 1)) : 1
        self.count = count
        withSteps { failures, successes in
            var alternative = lowestAlternative
            for index in 0..<count {
                let rate = min(alternative, highest)
                failures[index] = naturalLog(rate / budget)
                successes[index] = naturalLog((1 - rate) / (1 - budget))
                alternative *= ratio
            }
        }
    }

    /// Adds one outcome. Returns the failure rate and length of the firing detector's run, if one fired.
    mutating func record(failure: Bool) -> (rate: Double, length: Double)? {
        var fired: (rate: Double, length: Double)?
        let count = self.count
        let threshold = self.threshold
        let increments = failure ? failureStep : successStep
        let x: Double = failure ? 1 : 0
        withUnsafeBytes(of: increments) { stepBytes in
            let steps = stepBytes.bindMemory(to: Double.self)
            withUnsafeMutableBytes(of: &evidence) { evidenceBytes in
                withUnsafeMutableBytes(of: &runLength) { lengthBytes in
                    withUnsafeMutableBytes(of: &runFailures) { failureBytes in
                        let sums = evidenceBytes.bindMemory(to: Double.self)
                        let lengths = lengthBytes.bindMemory(to: Double.self)
                        let failures = failureBytes.bindMemory(to: Double.self)
                        for index in 0..<count {
                            let sum = sums[index] + steps[index]
                            if sum <= 0 {
                                sums[index] = 0
                                lengths[index] = 0
                                failures[index] = 0
                            } else {
                                sums[index] = sum
                                lengths[index] += 1
                                failures[index] += x
                                if sum > threshold, fired == nil {
                                    fired = (failures[index] / lengths[index], lengths[index])
                                }
                            }
                        }
                    }
                }
            }
        }
        return fired
    }

    /// Forgets accumulated evidence (after the state it would have changed has changed).
    mutating func reset() {
        evidence = (0, 0, 0, 0, 0, 0)
        runLength = (0, 0, 0, 0, 0, 0)
        runFailures = (0, 0, 0, 0, 0, 0)
    }

    /// The largest accumulated evidence, in nats (for diagnostics and snapshots).
    var strongestEvidence: Double {
        max(evidence.0, evidence.1, evidence.2, evidence.3, evidence.4, evidence.5)
    }

    private mutating func withSteps(_ body: (UnsafeMutableBufferPointer<Double>, UnsafeMutableBufferPointer<Double>) -> Void) {
        withUnsafeMutableBytes(of: &failureStep) { failureBytes in
            withUnsafeMutableBytes(of: &successStep) { successBytes in
                body(failureBytes.bindMemory(to: Double.self), successBytes.bindMemory(to: Double.self))
            }
        }
    }

    static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.count == rhs.count && lhs.threshold == rhs.threshold && lhs.state == rhs.state
    }

    func hash(into hasher: inout Hasher) {
        hasher.combine(count)
        hasher.combine(state)
    }

    /// Evidence, run lengths and run failures, for snapshots and equality.
    var state: [Double] {
        func array(_ t: (Double, Double, Double, Double, Double, Double)) -> [Double] { [t.0, t.1, t.2, t.3, t.4, t.5] }
        return array(evidence) + array(runLength) + array(runFailures)
    }

    mutating func restore(state: [Double]) {
        guard state.count == 18 else { return }
        evidence = (state[0], state[1], state[2], state[3], state[4], state[5])
        runLength = (state[6], state[7], state[8], state[9], state[10], state[11])
        runFailures = (state[12], state[13], state[14], state[15], state[16], state[17])
    }
}
