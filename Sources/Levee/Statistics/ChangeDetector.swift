/// Fast detection of a failure rate above the SLO's budget: a bank of CUSUM tests.
///
/// CUSUM (Page, 1954) is the optimal sequential detector of a change in a rate: for a given
/// false-alarm rate, no test notices the change sooner. Each detector of the bank accumulates,
/// outcome by outcome, the log-likelihood ratio of an alternative failure rate against the budget,
/// floored at zero, and fires when the sum exceeds `threshold` nats. The alternatives run
/// geometrically from the "down" rate to 95 %, so a 60 % outage is caught by the detector tuned
/// for it within a couple of dozen outcomes, and a mild excess by the one tuned near the budget.
///
/// Each detector also counts the outcomes and failures of its current run (since its sum was last
/// zero): when it fires, that run is the freshest evidence of the new rate.
struct ChangeDetector: Hashable, Sendable {
    static let capacity = 6

    /// One CUSUM: its evidence increments and the state of its current run.
    struct Cusum: Hashable, Sendable {
        var failureStep = -1.0
        var successStep = -1.0
        var sum = 0.0
        var length = 0.0
        var failures = 0.0

        /// Unused slots keep steps of -1: their sum stays at zero and they never fire.
        @inline(__always)
        mutating func record(failure: Bool, threshold: Double) -> Bool {
            let next = sum + (failure ? failureStep : successStep)
            if next <= 0 {
                sum = 0
                length = 0
                failures = 0
                return false
            }
            sum = next
            length += 1
            if failure { failures += 1 }
            return next > threshold
        }
    }

    // A tuple, not an array: fixed memory, no bounds or uniqueness checks on the hot path.
    private var bank = (Cusum(), Cusum(), Cusum(), Cusum(), Cusum(), Cusum())
    private(set) var count = 0
    /// No detector holds evidence. A success then changes nothing (every step it adds is
    /// negative and the sums are floored at zero), so it is not recorded: with a healthy
    /// dependency that is nearly every outcome.
    private var quiet = true
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
        var alternative = lowestAlternative
        for index in 0..<count {
            let rate = min(alternative, highest)
            withDetector(index) { cusum in
                cusum.failureStep = naturalLog(rate / budget)
                cusum.successStep = naturalLog((1 - rate) / (1 - budget))
            }
            alternative *= ratio
        }
    }

    /// Adds one outcome. Returns the failure rate and length of the firing detector's run, if one fired.
    @inline(__always)
    mutating func record(failure: Bool) -> (rate: Double, length: Double)? {
        if quiet && !failure { return nil }
        // Every detector in use sees every outcome. The ones past `count` are skipped: with steps
        // of -1 and no evidence (see `restore`), recording would leave them exactly as they are.
        let f0 = bank.0.record(failure: failure, threshold: threshold)
        let f1 = count > 1 && bank.1.record(failure: failure, threshold: threshold)
        let f2 = count > 2 && bank.2.record(failure: failure, threshold: threshold)
        let f3 = count > 3 && bank.3.record(failure: failure, threshold: threshold)
        let f4 = count > 4 && bank.4.record(failure: failure, threshold: threshold)
        let f5 = count > 5 && bank.5.record(failure: failure, threshold: threshold)
        // A sum is exactly zero only after its run was reset (a positive one stays positive).
        quiet = !failure && bank.0.sum == 0 && bank.1.sum == 0 && bank.2.sum == 0 && bank.3.sum == 0
            && bank.4.sum == 0 && bank.5.sum == 0
        guard f0 || f1 || f2 || f3 || f4 || f5 else { return nil }
        let fired = f0 ? bank.0 : f1 ? bank.1 : f2 ? bank.2 : f3 ? bank.3 : f4 ? bank.4 : bank.5
        return (fired.failures / fired.length, fired.length)
    }

    /// Forgets accumulated evidence (after the state it would have changed has changed).
    mutating func reset() {
        for index in 0..<Self.capacity {
            withDetector(index) { cusum in
                cusum.sum = 0
                cusum.length = 0
                cusum.failures = 0
            }
        }
        quiet = true
    }

    private mutating func withDetector(_ index: Int, _ body: (inout Cusum) -> Void) {
        switch index {
        case 0: body(&bank.0)
        case 1: body(&bank.1)
        case 2: body(&bank.2)
        case 3: body(&bank.3)
        case 4: body(&bank.4)
        default: body(&bank.5)
        }
    }

    private var detectors: [Cusum] { [bank.0, bank.1, bank.2, bank.3, bank.4, bank.5] }

    static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.count == rhs.count && lhs.threshold == rhs.threshold && lhs.detectors == rhs.detectors
    }

    func hash(into hasher: inout Hasher) {
        hasher.combine(count)
        hasher.combine(detectors)
    }

    /// Evidence, run lengths and run failures (6 each), for snapshots.
    var state: [Double] {
        let all = detectors
        return all.map(\.sum) + all.map(\.length) + all.map(\.failures)
    }

    mutating func restore(state: [Double]) {
        guard state.count == 3 * Self.capacity else { return }
        // Detectors past `count` are unused and must hold no evidence (`record` skips them).
        for index in 0..<count {
            withDetector(index) { cusum in
                cusum.sum = state[index]
                cusum.length = state[Self.capacity + index]
                cusum.failures = state[2 * Self.capacity + index]
            }
        }
        quiet = detectors.allSatisfy { $0.sum == 0 && $0.length == 0 && $0.failures == 0 }
    }
}
