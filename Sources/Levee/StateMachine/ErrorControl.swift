/// Everything the error side derives from the SLO, computed once.
///
/// With `budget = 1 − successRate`:
/// - **violation**: the failure rate exceeds the budget with confidence, tested as
///   `n · KL(p ‖ budget) > ln(10⁸)`: a false alarm has at most one chance in 10⁸ per look,
///   at any traffic volume. While the measured rate is at or below the budget nothing is shed.
/// - **proportional shedding**: between the budget and `downRate` (twice the budget, or halfway
///   to 100 % for loose SLOs), the shed share grows linearly with the excess.
/// - **down**: at or above `downRate` the circuit opens and only probes are admitted.
/// - **recovery**: each outcome of a call admitted since the circuit opened adds the log-likelihood
///   ratio of "healthy" (`budget / 2`) against "down" (`downRate`); admission grows as
///   `probeFraction · e^(rampGain · evidence)`, so it ramps up geometrically while probes succeed
///   and snaps back when they fail (a sequential probability ratio test that is also the ramp).
///   A dependency that probes show to be over budget but no longer down returns to proportional
///   shedding.
package struct ErrorPolicy: Hashable, Sendable {
    /// `ln(10⁸)`: the evidence, in nats, needed to declare the SLO violated.
    static let detectionThreshold = 18.420680743952367
    /// Normal quantile of the confidence interval reported in statistics (95 %).
    static let reportingZ = 1.959963984540054
    /// Probes admitted while open, as a fraction of the healthy arrival rate, at the start of an
    /// outage. Above the healthy rate (a retry storm) the extra calls are not probed more.
    package static let baseProbeFraction = 0.02
    /// `ln(10⁴)`: evidence needed to close again. Admission reaches its ceiling
    /// (``maximumOpenAdmission``) earlier; the rest is confirmed at nearly full traffic, which
    /// takes milliseconds when the dependency is healthy and keeps a dependency sitting at the
    /// "down" rate from passing for recovered (a false recovery has about one chance in 10⁴ per
    /// attempt).
    static let recoveryThreshold = 9.210340371976184
    /// `ln(10²)`: evidence that a dependency is no longer down, enough to go from open back to
    /// proportional shedding. Less than closing needs: shedding is undone at once (it opens again
    /// as soon as its own estimate reaches the down rate, from far more calls than probes give),
    /// while staying open on a dependency in the shedding band rejects nearly everything for as
    /// long as probes take to tell its rate from the down rate (hours near the down rate).
    static let sheddingReturnThreshold = 4.605170185988092
    /// While open, admission ramps up to this share at most: an open circuit always rejects
    /// something, and closing waits for the full evidence.
    static let maximumOpenAdmission = 1 - 0.02
    /// The probe fraction decays as `1/√(1 + age/backoff)`: halved after 30 min, a tenth after 16 hours.
    package static let probeBackoffSeconds = 600.0

    let budget: Double
    let downRate: Double
    let healthyRate: Double
    let successEvidence: Double
    let failureEvidence: Double
    /// At least one probe per this interval (before back-off) however little traffic is offered.
    package let probeFloorNanoseconds: Double
    /// The floor's interval doubles with each consecutive failed probe, up to this many times (a
    /// sixteenth of the floor's rate). Every instance of a fleet probes at its own floor when its
    /// share of the traffic is small, so together they send the floor times the fleet's size,
    /// whatever their budgets say: at a 2.5 s timeout, a hundred clients send 20 probes a second to
    /// a dependency that may be down because of load. Backing off on failures, as retries do,
    /// bounds that by what the dependency answers, not by a fleet size no instance knows. A
    /// successful probe restores the floor, so a dependency that recovers waits at most one long
    /// interval for it.
    package static let maximumFloorDoublings = 4
    /// Admission grows as `e^(rampGain · evidence)`. At tight SLOs a success carries little
    /// evidence (0.015 nats at 99 %), so the gain keeps the ramp at one doubling per 8 successes or faster
    /// whatever the SLO; a failure still sends admission back to the floor. Closing the circuit
    /// still needs the full evidence, gathered at full traffic.
    let rampGain: Double

    package init(slo: SLO) {
        budget = slo.errorBudget
        downRate = budget + min(budget, (1 - budget) / 2)
        healthyRate = budget / 2
        successEvidence = naturalLog((1 - healthyRate) / (1 - downRate))
        failureEvidence = naturalLog(healthyRate / downRate)
        probeFloorNanoseconds = max(1e9, 2 * Double(slo.timeoutNanoseconds))
        rampGain = max(1, Self.rampStepPerSuccess / successEvidence)
        let middle = (budget + downRate) / 2
        probeWindow = (2 * Self.recoveryThreshold / Divergence.bernoulliKL(middle, downRate)).rounded(.up)
    }

    /// Outcomes the open circuit's own failure-rate estimate remembers: enough that a dependency
    /// failing at the middle of the shedding band can be told from one at the down rate with the
    /// recovery evidence, twice over (four times what going back to shedding needs, so that rates
    /// nearer the down rate can be told apart too). Close rates need many calls (about 26,000 at a
    /// 99 % SLO, 2,200 at 90 %), and a shorter memory could never tell them apart: the circuit would
    /// stay open on a dependency that only deserves proportional shedding.
    let probeWindow: Double

    /// `ln 2 / 8`: the ramp doubles admission every eight successes at least.
    static let rampStepPerSuccess = 0.08664339756999316

    /// Share of calls to shed at failure rate `rate`: 0 at the budget, 1 at `downRate`.
    func severity(_ rate: Double) -> Double {
        min(max((rate - budget) / (downRate - budget), 0), 1)
    }

    func violates(rate: Double, samples: Double) -> Bool {
        rate > budget && samples * Divergence.bernoulliKL(rate, budget) > Self.detectionThreshold
    }

    package func backoff(age: Int64) -> Double {
        (1 + max(Double(age), 0) / (Self.probeBackoffSeconds * 1e9)).squareRoot()
    }

    /// Nanoseconds between probes at the start of the ramp, for an outage whose ``backoff(age:)``
    /// is `backoff`: the shorter of the budgeted and floor intervals. With no rate known yet (zero)
    /// it is the floor, never NaN.
    func probeInterval(backoff: Double, offeredRate: Double, healthyRate: Double, failedProbes: Int) -> Double {
        min(budgetedProbeInterval(backoff: backoff, offeredRate: offeredRate, healthyRate: healthyRate),
            floorProbeInterval(backoff: backoff, failedProbes: failedProbes))
    }

    /// The budget's interval: the probe fraction of the lesser of the healthy and offered rates (a
    /// storm is not probed more, a lull not more than it offers). Infinite with no rate known.
    package func budgetedProbeInterval(backoff: Double, offeredRate: Double, healthyRate: Double) -> Double {
        let reference = healthyRate > 0 && offeredRate > 0 ? min(healthyRate, offeredRate) : max(healthyRate, offeredRate)
        return 1e9 * backoff / (Self.baseProbeFraction * reference)
    }

    /// The floor's interval, doubled for each of the last `failedProbes` consecutive failures (see
    /// ``maximumFloorDoublings``).
    package func floorProbeInterval(backoff: Double, failedProbes: Int) -> Double {
        probeFloorNanoseconds * backoff * Double(1 << min(max(failedProbes, 0), Self.maximumFloorDoublings))
    }
}

/// The error side's state: closed, shedding a share of calls, or open and probing.
struct ErrorControl: Hashable, Sendable {
    enum Mode: Hashable, Sendable { case closed, shedding, open }
    enum Verdict { case none, startedShedding, opened, recovered }

    var mode: Mode = .closed
    /// The shed share while shedding (1 while open).
    var rejectionProbability = 0.0
    /// Admission credit: deterministic proportional admission (each call adds the admitted
    /// share; a call is admitted when a whole unit has accrued), exact without randomness.
    var credit = 0.0
    var openedAt: Int64 = 0
    /// Log-likelihood evidence that the dependency is healthy again, since it went down.
    var recoveryEvidence = 0.0
    /// Failure rate of the calls admitted since opening (an average over up to the policy's `probeWindow`).
    var probeFailureRate = 0.0
    var probeCount = 0.0
    /// Consecutive failures among the outcomes of calls admitted while open: the probe floor's back-off.
    var failedProbeStreak = 0
    /// While shedding, the last call admitted, for the floor of one per probe interval. While open,
    /// the instant the probe pacing counts from: the last probe, less the wait it may carry over.
    var lastProbeAt: Int64 = 0
    /// While open, the offered rate a fresh look began at, or zero when none is under way (see
    /// ``beginFreshLook(offeredRate:)``).
    var freshLookRate = 0.0
    /// `e^(±rampGain · recoveryEvidence)` at the exponent they were computed for: while open every
    /// arrival needs both, and the evidence only moves with probe outcomes.
    private var ramp = RampFactors()

    struct RampFactors: Hashable, Sendable {
        var exponent = 0.0
        var growth = 1.0
        var shrink = 1.0

        @inline(__always)
        mutating func update(exponent: Double) {
            guard exponent != self.exponent else { return }
            self.exponent = exponent
            growth = naturalExp(exponent)
            shrink = naturalExp(-exponent)
        }

        // A cache, not part of the controller's value: any two compare equal.
        static func == (lhs: Self, rhs: Self) -> Bool { true }
        func hash(into hasher: inout Hasher) {}
    }

    mutating func evaluate(rate: Double, samples: Double, at instant: Int64, policy: ErrorPolicy) -> Verdict {
        switch mode {
        case .closed:
            guard policy.violates(rate: rate, samples: samples) else { return .none }
            let severity = policy.severity(rate)
            if severity >= 1 {
                open(at: instant)
                return .opened
            }
            mode = .shedding
            rejectionProbability = severity
            return .startedShedding
        case .shedding:
            if rate <= policy.budget {
                close()
                return .recovered
            }
            let severity = policy.severity(rate)
            if severity >= 1 {
                open(at: instant)
                return .opened
            }
            rejectionProbability = severity
            return .none
        case .open:
            return .none
        }
    }

    /// Shedding admits its share, and never fewer calls than an open circuit's probe floor: a share
    /// that rounds to nothing (a failure rate just short of the down rate) would admit no call that
    /// could show the rate falling, and shed everything for good.
    mutating func admitShed(at instant: Int64, policy: ErrorPolicy) -> Bool {
        guard admitShare(1 - rejectionProbability) || Double(instant - lastProbeAt) >= policy.probeFloorNanoseconds
        else { return false }
        lastProbeAt = instant
        return true
    }

    mutating func admitShare(_ share: Double) -> Bool {
        credit += share
        guard credit >= 1 else { return false }
        credit -= 1
        return true
    }

    /// A confident fall in offered traffic while open begins a fresh look, unless one is under way.
    /// Called only while open (the caller tests the mode before it measures the fall).
    ///
    /// Retry storms subside once calls stop failing, and a surge that swamped the dependency
    /// passes: either way the conditions the circuit opened under may be over. The probes set for
    /// the outage (a fraction of the healthy rate before it, backed off with its age) are then at
    /// their slowest just when their outcomes would show recovery. A fresh look probes as a new
    /// outage would, with the rate offered now in place of the healthy rate and no back-off, until
    /// a probe fails: a dependency still down ends it within a few probes, one that recovered
    /// keeps it through the ramp. A rise in offered traffic is not a reason to look: it only adds
    /// load to a dependency that is failing.
    mutating func beginFreshLook(offeredRate: Double) {
        guard freshLookRate == 0, offeredRate > 0 else { return }
        freshLookRate = offeredRate
    }

    /// The rate probes are budgeted on (the healthy rate, or a fresh look's) and the back-off
    /// applied to it.
    @inline(__always)
    private func probeBasis(at instant: Int64, healthyRate: Double, policy: ErrorPolicy) -> (healthyRate: Double, backoff: Double) {
        freshLookRate > 0 ? (freshLookRate, 1) : (healthyRate, policy.backoff(age: instant - openedAt))
    }

    /// Share of offered calls admitted while open: the probe fraction of the healthy rate,
    /// expressed as a share of what is offered now, grown by the recovery evidence.
    func openAdmission(at instant: Int64, offeredRate: Double = 0, healthyRate: Double = 0, policy: ErrorPolicy) -> Double {
        let basis = probeBasis(at: instant, healthyRate: healthyRate, policy: policy)
        return openAdmission(backoff: basis.backoff, offeredRate: offeredRate, healthyRate: basis.healthyRate,
                             growth: naturalExp(policy.rampGain * recoveryEvidence))
    }

    /// `backoff` is the policy's back-off at the outage's age; `growth` is `e^(rampGain · recoveryEvidence)`.
    @inline(__always)
    private func openAdmission(backoff: Double, offeredRate: Double, healthyRate: Double, growth: Double) -> Double {
        let base = ErrorPolicy.baseProbeFraction / backoff
        let scale = offeredRate > healthyRate && offeredRate > 0 && healthyRate > 0 ? healthyRate / offeredRate : 1
        return min(ErrorPolicy.maximumOpenAdmission, base * scale * growth)
    }

    /// While the ramp is below its ceiling, probes are paced in time at the budgeted rate (the probe
    /// fraction of the lesser of the healthy and offered rates, or the probe floor, grown by the
    /// ramp) rather than admitted as a share of the offered rate: the offered rate is an average
    /// over a second, and after a storm ends it stays high long enough to thin the probes that
    /// would show recovery. Near the ceiling admission is the share of offered calls again.
    mutating func admitProbe(at instant: Int64, offeredRate: Double, healthyRate: Double, policy: ErrorPolicy) -> Bool {
        ramp.update(exponent: policy.rampGain * recoveryEvidence)
        // One back-off for both figures: it takes a square root, and every arrival while open needs it.
        let (healthyRate, backoff) = probeBasis(at: instant, healthyRate: healthyRate, policy: policy)
        let share = openAdmission(backoff: backoff, offeredRate: offeredRate, healthyRate: healthyRate, growth: ramp.growth)
        if share >= ErrorPolicy.maximumOpenAdmission { return admitShare(share) }
        let interval = policy.probeInterval(backoff: backoff, offeredRate: offeredRate, healthyRate: healthyRate,
                                            failedProbes: failedProbeStreak)
            * ramp.shrink
        let due = Double(instant - lastProbeAt)
        guard due >= interval else { return false }
        // The time waited for a call beyond the interval counts towards the next one (up to one
        // interval), so pacing keeps its rate when calls are sparse compared with it.
        lastProbeAt = instant - Int64(min(due - interval, interval))
        return true
    }

    enum ProbeVerdict: Equatable { case stillDown, recovered, partiallyDegraded(rate: Double) }

    /// Adds one outcome of a call admitted while open.
    ///
    /// The recovery walk weighs "healthy" (half the budget) against "down" at the down rate: among
    /// all the failure rates that count as down, that is the one hardest to tell from healthy, so
    /// evidence against it is evidence against every one of them. The same evidence sets
    /// admission, `probeFraction · e^(rampGain · evidence)`: admission ramps up geometrically
    /// while calls succeed and collapses when they fail. It stays below 100 % until recovery is
    /// declared (evidence at ``ErrorPolicy/recoveryThreshold``), so an open circuit always
    /// rejects something.
    ///
    /// A dependency that is no longer down but still over budget (its failure rate, estimated
    /// from the calls admitted since opening, is confidently below the down rate) goes back to
    /// proportional shedding instead of staying open.
    mutating func recordProbeOutcome(failed: Bool, at instant: Int64, policy: ErrorPolicy) -> ProbeVerdict {
        recoveryEvidence = max(0, recoveryEvidence + (failed ? policy.failureEvidence : policy.successEvidence))
        failedProbeStreak = failed ? min(failedProbeStreak + 1, ErrorPolicy.maximumFloorDoublings) : 0
        if failed { freshLookRate = 0 }
        probeCount = min(probeCount + 1, policy.probeWindow)
        probeFailureRate += ((failed ? 1 : 0) - probeFailureRate) / probeCount
        if recoveryEvidence >= ErrorPolicy.recoveryThreshold,
           openAdmission(at: instant, policy: policy) >= ErrorPolicy.maximumOpenAdmission {
            close()
            return .recovered
        }
        if probeFailureRate > policy.budget, probeFailureRate < policy.downRate,
           probeCount * Divergence.bernoulliKL(probeFailureRate, policy.downRate) > ErrorPolicy.sheddingReturnThreshold {
            mode = .shedding
            rejectionProbability = policy.severity(probeFailureRate)
            recoveryEvidence = 0
            freshLookRate = 0
            failedProbeStreak = 0
            credit = 0
            return .partiallyDegraded(rate: probeFailureRate)
        }
        return .stillDown
    }

    func currentRejectionProbability(at instant: Int64, offeredRate: Double, healthyRate: Double,
                                     policy: ErrorPolicy) -> Double {
        switch mode {
        case .closed: 0
        case .shedding: rejectionProbability
        case .open: 1 - openAdmission(at: instant, offeredRate: offeredRate, healthyRate: healthyRate, policy: policy)
        }
    }

    private mutating func open(at instant: Int64) {
        mode = .open
        openedAt = instant
        recoveryEvidence = 0
        freshLookRate = 0
        probeFailureRate = 0
        probeCount = 0
        failedProbeStreak = 0
        credit = 0
        lastProbeAt = instant
        rejectionProbability = 1
    }

    private mutating func close() {
        mode = .closed
        rejectionProbability = 0
        recoveryEvidence = 0
        freshLookRate = 0
        failedProbeStreak = 0
        credit = 0
    }
}
