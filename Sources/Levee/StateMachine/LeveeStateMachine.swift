/// Levee's decision logic as a pure value type on integer nanoseconds.
///
/// The public ``Levee`` class wraps one of these in a `Mutex`; the simulator and tests drive it
/// directly. It never reads a clock: every method takes the instant from its caller.
///
/// Two controllers share it:
/// - the **error side** compares the dependency's failure rate with the SLO's error budget
///   (`ErrorControl`): closed while the budget holds, shedding in proportion to the excess, open
///   with bounded probing when the dependency is down;
/// - the **latency side** (``ConcurrencyLimiter``) caps concurrency when admission itself causes
///   queueing.
package struct LeveeStateMachine {
    package struct Configuration: Sendable, Hashable {
        package var dryRun: Bool
        package var maximumInFlight: Int
        package init(dryRun: Bool = false, maximumInFlight: Int = 4096) {
            self.dryRun = dryRun
            self.maximumInFlight = maximumInFlight
        }
    }

    let slo: SLO
    let configuration: Configuration
    let policy: ErrorPolicy
    /// The SLO's timeout in nanoseconds, converted once: a `Duration`'s components take a 128-bit
    /// division, and every completion compares its latency with the deadline.
    let deadline: Double

    var permits: PermitTable
    /// The latest instant processed; instants must not go below it.
    var latest: Int64 = .min
    var outcomes = OutcomeEstimator()
    var detector: ChangeDetector
    var successesSinceEvaluation = 0
    var errorControl = ErrorControl()
    var limiter = ConcurrencyLimiter()
    var traffic = TrafficEstimator()
    var counters = LeveeStatistics.Counters()
    package private(set) var state: LeveeState = .closed
    /// A transition made by the current call, handed to the caller for delivery after the lock.
    var pendingChange: StateChange?

    package init(slo: SLO, configuration: Configuration) {
        self.slo = slo
        self.configuration = configuration
        self.policy = ErrorPolicy(slo: slo)
        self.deadline = Double(slo.timeoutNanoseconds)
        self.detector = ChangeDetector(budget: policy.budget, lowestAlternative: policy.downRate,
                                       threshold: ErrorPolicy.detectionThreshold)
        self.permits = PermitTable(capacity: configuration.maximumInFlight)
    }

    // MARK: Admission

    package mutating func acquire(at instant: Int64) throws(LeveeError) -> (Admission, StateChange?) {
        try acquire(at: instant, clampToLatest: false)
    }

    /// `clampToLatest` serves clock-driven callers: threads read the clock before taking the
    /// lock, so their instants may arrive a little out of order; such an instant is processed as
    /// the latest one instead of being refused.
    package mutating func acquire(at instant: Int64, clampToLatest: Bool) throws(LeveeError) -> (Admission, StateChange?) {
        let instant = clampToLatest ? max(instant, latest) : instant
        switch try decide(at: instant) {
        case .admitted(let permit):
            return (.admitted(permit), takeChange())
        case .rejected(let reason):
            return (.rejected(makeRejection(reason, at: instant)), takeChange())
        }
    }

    /// The same decision as ``acquire(at:)`` without the rejection's figures or the transition:
    /// for a caller (the simulator) that reads the state itself and only needs the permit.
    package mutating func admit(at instant: Int64) throws(LeveeError) -> Permit? {
        let decision = try decide(at: instant)
        pendingChange = nil
        guard case .admitted(let permit) = decision else { return nil }
        return permit
    }

    private enum Decision {
        case admitted(Permit)
        case rejected(RejectionReason)
    }

    /// Everything `acquire` decides and records; building a ``Rejection`` is left to the callers
    /// that hand one out.
    @inline(__always)
    private mutating func decide(at instant: Int64) throws(LeveeError) -> Decision {
        try advance(to: instant)
        traffic.arrivals += 1

        var reason: RejectionReason?
        var isProbe = false
        switch errorControl.mode {
        case .closed:
            break
        case .shedding:
            if !errorControl.admitShed(at: instant, policy: policy) { reason = .shedding }
        case .open:
            if errorControl.admitProbe(at: instant, offeredRate: traffic.arrivalRate,
                                       healthyRate: traffic.healthyArrivalRate, policy: policy) {
                isProbe = true
            } else {
                reason = .circuitOpen
            }
        }
        if reason == nil, let limit = limiter.activeLimit, permits.inFlight >= limit { reason = .concurrencyLimit }

        if let reason {
            if !configuration.dryRun || permits.isFull {
                countRejection(reason)
                return .rejected(reason)
            }
            counters.dryRunRejections += 1
        } else if permits.isFull {
            // The hard ceiling of the permit table binds even in dry-run mode: it is memory, not policy.
            countRejection(.concurrencyLimit)
            return .rejected(.concurrencyLimit)
        }

        let (slot, generation) = permits.take()
        counters.admitted += 1
        if isProbe { counters.probes += 1 }
        return .admitted(Permit(acquiredAt: instant, isProbe: isProbe, wouldHaveBeenRejected: reason,
                                slot: slot, generation: generation, epoch: permits.epoch, owner: permits.owner))
    }

    // MARK: Completion

    package mutating func release(_ permit: Permit, outcome: Outcome, at instant: Int64) throws(LeveeError) -> StateChange? {
        try release(permit, outcome: outcome, at: instant, clampToLatest: false)
    }

    package mutating func release(_ permit: Permit, outcome: Outcome, at instant: Int64, clampToLatest: Bool) throws(LeveeError) -> StateChange? {
        let instant = clampToLatest ? max(instant, latest) : instant
        try record(permit, outcome: outcome, at: instant)
        return takeChange()
    }

    /// The same as ``release(_:outcome:at:)`` without handing out the transition (the simulator
    /// reads the state itself).
    package mutating func complete(_ permit: Permit, outcome: Outcome, at instant: Int64) throws(LeveeError) {
        try record(permit, outcome: outcome, at: instant)
        pendingChange = nil
    }

    /// Everything `release` records and decides.
    @inline(__always)
    private mutating func record(_ permit: Permit, outcome: Outcome, at instant: Int64) throws(LeveeError) {
        try advance(to: instant)
        guard permits.isOutstanding(slot: permit.slot, generation: permit.generation,
                                    epoch: permit.epoch, owner: permit.owner) else {
            counters.staleReleases += 1
            return
        }
        // Refused before the slot is freed, so a bad instant loses nothing: the permit stays
        // outstanding and can still be released correctly.
        guard instant >= permit.acquiredAt else {
            throw .releasedBeforeAcquired(acquiredAt: permit.acquiredAt, releasedAt: instant)
        }
        permits.free(slot: permit.slot)
        traffic.completions += 1
        let failed: Bool
        switch outcome {
        case .ignored:
            counters.ignored += 1
            return
        case .success:
            counters.successes += 1
            failed = false
            if limiter.recordSuccess(latency: Double(instant - permit.acquiredAt), acquiredAt: permit.acquiredAt,
                                     deadline: deadline) {
                updateState(at: instant, reason: .overload)
            }
        case .failure:
            counters.failures += 1
            let latency = Double(instant - permit.acquiredAt)
            // Measured against the lowest rate: an open circuit's probes and ramp, or calls shed,
            // send far fewer than are offered, and a queue they fill is still one that admission made.
            let callRate = min(traffic.healthyArrivalRate, traffic.arrivalRate, traffic.completionRate)
            if let refusal = limiter.isOverloadRefusal(latency: latency, acquiredAt: permit.acquiredAt,
                                                       inFlight: permits.inFlight, callRate: callRate,
                                                       deadline: deadline) {
                // Caused by admission: the limiter's to fix, not evidence that the dependency is sick.
                if limiter.cuts(refusal, admittedAt: permit.acquiredAt) { cutLimit(at: instant) }
                return
            }
            failed = true
        }
        outcomes.record(failure: failed)
        if errorControl.mode != .open, let run = detector.record(failure: failed) {
            detector.reset()
            // On a first detection the detector's run is the freshest evidence of the new rate.
            // Once shedding, the estimator has that evidence already: re-seeding it from every
            // firing run (stopped where it looks worst) would ratchet the estimate upwards.
            if errorControl.mode == .closed { outcomes.seed(rate: run.rate, samples: run.length) }
            evaluate(at: instant)
        }

        // Only calls admitted while open (and, in dry run, that would have been admitted) are
        // evidence about the dependency since it went down.
        if errorControl.mode == .open, permit.acquiredAt >= errorControl.openedAt, permit.wouldHaveBeenRejected == nil {
            switch errorControl.recordProbeOutcome(failed: failed, at: instant, policy: policy) {
            case .recovered:
                // Evidence from before the recovery describes a dependency that no longer exists.
                outcomes.reset()
                detector.reset()
                updateState(at: instant, reason: .recovered)
            case .partiallyDegraded(let rate):
                // No longer down, still over budget: shed in proportion from what probes show.
                outcomes.seed(rate: rate, samples: errorControl.probeCount)
                detector.reset()
                updateState(at: instant, reason: .sloViolation)
            case .stillDown:
                break
            }
        }

        successesSinceEvaluation += 1
        if failed || successesSinceEvaluation >= 16 { evaluate(at: instant) }
    }

    // MARK: Time

    /// Inlined into both paths: in the usual case it is a comparison and a store, and the periodic
    /// work it rarely starts stays out of line.
    @inline(__always)
    private mutating func advance(to instant: Int64) throws(LeveeError) {
        guard instant >= latest else { throw .timeWentBackwards(instant: instant, latest: latest) }
        latest = instant
        if traffic.tickStart == .min { traffic.tickStart = instant }
        if instant - traffic.tickStart >= TrafficEstimator.tickNanoseconds { tick(at: instant) }
    }

    /// Periodic work, run lazily by the first event of each tick: rates and the latency limiter.
    @inline(never)
    private mutating func tick(at instant: Int64) {
        limiter.advanceBaseline(seconds: Double(instant - traffic.tickStart) / 1e9)
        traffic.close(at: instant, healthy: errorControl.mode == .closed)
        if errorControl.mode == .open, traffic.offeredRateIsFalling {
            errorControl.beginFreshLook(offeredRate: traffic.recentArrivalRate)
        }
        let allowed = errorControl.mode != .open
        switch limiter.tick(at: instant, inFlight: permits.inFlight, allowed: allowed,
                            maximum: configuration.maximumInFlight) {
        case .engaged?: updateState(at: instant, reason: .overload)
        case .released?: updateState(at: instant, reason: .capacityRecovered)
        case nil: if case .throttled = state { updateState(at: instant, reason: .overload) }
        }
    }

    /// Engages or cuts the concurrency limit for overload that admission caused; either way the
    /// state then reports the limit now in force.
    private mutating func cutLimit(at instant: Int64) {
        _ = limiter.recordOverloadRefusal(at: instant, inFlight: permits.inFlight, throughput: traffic.completionRate,
                                          maximum: configuration.maximumInFlight)
        updateState(at: instant, reason: .overload)
    }

    /// Re-reads the outcome estimate and moves the error side if the evidence says so.
    private mutating func evaluate(at instant: Int64) {
        successesSinceEvaluation = 0
        outcomes.reconcile()
        // Failures heavy enough to open the circuit while a concurrency limit binds may be caused by
        // what is admitted: cut the limit and judge the dependency afresh on calls sent under the
        // lower limit. Only failures that persist down to the limit's floor open the circuit.
        if errorControl.mode != .open, limiter.canShrink,
           policy.violates(rate: outcomes.rate, samples: outcomes.sampleCount), policy.severity(outcomes.rate) >= 1 {
            cutLimit(at: instant)
            outcomes.reset()
            detector.reset()
            return
        }
        report(errorControl.evaluate(rate: outcomes.rate, samples: outcomes.sampleCount, at: instant, policy: policy),
               at: instant)
    }

    private mutating func report(_ verdict: ErrorControl.Verdict, at instant: Int64) {
        switch verdict {
        case .none: if errorControl.mode == .shedding { updateState(at: instant, reason: .sloViolation) }
        case .startedShedding: updateState(at: instant, reason: .sloViolation)
        case .opened: updateState(at: instant, reason: .dependencyDown)
        case .recovered: updateState(at: instant, reason: .recovered)
        }
    }

    // MARK: State reporting

    private var derivedState: LeveeState {
        switch errorControl.mode {
        case .open:
            return .open
        case .shedding:
            return .throttled(limit: limiter.activeLimit ?? configuration.maximumInFlight)
        case .closed:
            if let limit = limiter.activeLimit { return .throttled(limit: limit) }
            return .closed
        }
    }

    /// Publishes the derived state; a change of kind becomes a transition for the observers.
    mutating func updateState(at instant: Int64, reason: TransitionReason) {
        let next = derivedState
        guard next != state else { return }
        if next.kind != state.kind {
            counters.transitions += 1
            let from = pendingChange?.from ?? state
            pendingChange = StateChange(from: from, to: next, reason: reason, at: instant,
                                        sequence: UInt64(counters.transitions))
        }
        state = next
    }

    @inline(__always)
    mutating func takeChange() -> StateChange? {
        guard let change = pendingChange else { return nil }
        pendingChange = nil
        return change.from.kind != change.to.kind ? change : nil
    }

    private mutating func countRejection(_ reason: RejectionReason) {
        switch reason {
        case .circuitOpen: counters.rejectedOpen += 1
        case .concurrencyLimit: counters.rejectedLimit += 1
        case .shedding: counters.rejectedShedding += 1
        }
    }

    private func makeRejection(_ reason: RejectionReason, at instant: Int64) -> Rejection {
        Rejection(reason: reason, estimatedSuccessRate: 1 - outcomes.rate,
                  rejectionProbability: errorControl.currentRejectionProbability(
                      at: instant, offeredRate: traffic.arrivalRate, healthyRate: traffic.healthyArrivalRate, policy: policy),
                  concurrencyLimit: limiter.activeLimit ?? (permits.isFull ? permits.capacity : nil),
                  inFlight: permits.inFlight)
    }

    /// A rejection describing the current figures, for paths that cannot reach a decision.
    var unavailable: Rejection { makeRejection(.concurrencyLimit, at: latest) }

    // MARK: Observation

    package var statistics: LeveeStatistics {
        let interval = Divergence.wilsonInterval(outcomes.rate, outcomes.sampleCount, z: ErrorPolicy.reportingZ)
        return LeveeStatistics(
            state: state,
            estimatedSuccessRate: 1 - outcomes.rate,
            successRateInterval: (1 - interval.upperBound)...(1 - interval.lowerBound),
            sampleCount: outcomes.sampleCount,
            rejectionProbability: errorControl.currentRejectionProbability(
                at: latest, offeredRate: traffic.arrivalRate, healthyRate: traffic.healthyArrivalRate, policy: policy),
            concurrencyLimit: limiter.activeLimit,
            inFlight: permits.inFlight,
            baselineLatencyNanoseconds: limiter.baselineLatency,
            recentLatencyNanoseconds: limiter.recentLatency,
            latencySetpoint: naturalExp(limiter.search.centerLog),
            baselineThroughput: traffic.completionRate,
            offeredRate: traffic.arrivalRate,
            counters: counters)
    }

    var memoryFootprint: Int { MemoryLayout<Self>.size + permits.memoryFootprint }
}

/// Arrival and completion rates, updated once per tick.
struct TrafficEstimator: Hashable, Sendable {
    static let tickNanoseconds: Int64 = 10_000_000
    /// Time constant of the rate averages.
    static let rateTimeConstant = 1.0
    static let healthyRateTimeConstant = 60.0
    /// Time constant of the recent arrival rate: a tenth of the averages', so that a fall in
    /// offered traffic shows within about a tenth of a second.
    static let recentRateTimeConstant = 0.1
    /// A fall counts when the recent rate is under four-fifths of the one-second average (the
    /// mirror of the overload watch's "a quarter more")...
    static let fallRatio = 0.8
    /// ...by more than four standard deviations of a Poisson count over the recent window, so
    /// that noise in steady traffic almost never passes for one.
    static let fallDeviations = 4.0

    var tickStart: Int64 = .min
    var arrivals = 0
    var completions = 0
    /// Calls offered per second (admitted or not).
    var arrivalRate = 0.0
    /// The same over about the last tenth of a second.
    var recentArrivalRate = 0.0
    /// Calls offered per second while the dependency was healthy (closed), over about a minute:
    /// the reference for the probe budget, so that a retry storm does not inflate probing.
    var healthyArrivalRate = 0.0
    /// Completions per second.
    var completionRate = 0.0

    mutating func close(at instant: Int64, healthy: Bool) {
        let seconds = Double(instant - tickStart) / 1e9
        guard seconds > 0 else { return }
        let weight = 1 - naturalExp(-seconds / Self.rateTimeConstant)
        let rate = Double(arrivals) / seconds
        arrivalRate += weight * (rate - arrivalRate)
        recentArrivalRate += (1 - naturalExp(-seconds / Self.recentRateTimeConstant)) * (rate - recentArrivalRate)
        if healthy {
            let slow = healthyArrivalRate == 0 ? 1 : 1 - naturalExp(-seconds / Self.healthyRateTimeConstant)
            healthyArrivalRate += slow * (rate - healthyArrivalRate)
        }
        completionRate += weight * (Double(completions) / seconds - completionRate)
        arrivals = 0
        completions = 0
        tickStart = instant
    }

    /// Whether the calls offered lately fall confidently short of the one-second average.
    var offeredRateIsFalling: Bool {
        let expected = arrivalRate * Self.recentRateTimeConstant
        let seen = recentArrivalRate * Self.recentRateTimeConstant
        return seen < Self.fallRatio * expected && expected - seen > Self.fallDeviations * expected.squareRoot()
    }
}
