import Synchronization

extension Levee {
    /// Everything this Levee has learned, to restore into a new instance after a restart.
    public func snapshot() -> LeveeSnapshot {
        machine.withLock { $0.makeSnapshot() }
    }

    /// Replaces what this Levee has learned with `snapshot`.
    ///
    /// The snapshot's relative instants are re-anchored at `instant` (by default the latest
    /// instant this Levee has processed, or the clock's current reading if it has processed
    /// none). Permits issued before the restore become stale: releasing them does nothing.
    /// - Throws: ``SnapshotError`` for a corrupt, newer-format or foreign snapshot; the Levee is
    ///   left exactly as it was.
    public func restore(from snapshot: LeveeSnapshot, at instant: Int64? = nil) throws(SnapshotError) {
        try snapshot.validate()
        guard snapshot.slo == slo else { throw .sloMismatch(snapshot: snapshot.slo, levee: slo) }
        let clockNow = options.clock.now()
        let change = machine.withLock { machine in
            machine.restore(from: snapshot, at: instant ?? (machine.hasProcessedAnything ? machine.latest : clockNow))
        }
        if let change { notifications.deliver(change) }
    }

    /// Restores from the binary form produced by ``LeveeSnapshot/serialized()``.
    public func restore(from bytes: [UInt8], at instant: Int64? = nil) throws(SnapshotError) {
        try restore(from: LeveeSnapshot(serialized: bytes), at: instant)
    }
}

extension LeveeStateMachine {
    var hasProcessedAnything: Bool { latest != .min }

    func makeSnapshot() -> LeveeSnapshot {
        let now = hasProcessedAnything ? latest : 0
        let mode = switch errorControl.mode { case .closed: 0; case .shedding: 1; case .open: 2 }
        var limiterPhase: Int64 = 0, limiterAgo: Int64 = 0, span = 0.0, checkpoint: Int64 = 0
        var reference = 0.0, adjustments: Int64 = 0
        switch limiter.phase {
        case .idle: break
        case .watching(let since, let watchSpan, let watchCheckpoint):
            limiterPhase = 1; limiterAgo = max(0, now - since); span = watchSpan; checkpoint = Int64(watchCheckpoint)
        case .limiting(let lastAdjustment, let limitReference, let count):
            limiterPhase = 2; limiterAgo = max(0, now - lastAdjustment); reference = limitReference
            adjustments = Int64(count)
        }
        return LeveeSnapshot(
            successRate: slo.successRate, timeoutNanoseconds: slo.timeoutNanoseconds,
            outcomeRates: outcomes.rateArray, outcomeCounts: outcomes.countArray,
            detectorState: detector.state, errorMode: mode,
            rejectionProbability: errorControl.rejectionProbability,
            openedNanosecondsAgo: errorControl.mode == .open ? max(0, now - errorControl.openedAt) : 0,
            recoveryEvidence: errorControl.recoveryEvidence,
            baselineLogLatency: limiter.baselineLog, baselineSamples: limiter.baselineSamples,
            recentLogLatency: limiter.recentLog, recentSamples: limiter.recentSamples,
            arrivalRate: traffic.arrivalRate, completionRate: traffic.completionRate,
            healthyArrivalRate: traffic.healthyArrivalRate,
            tickAgeNanoseconds: traffic.tickStart == .min ? 0 : max(0, now - traffic.tickStart),
            tickArrivals: Int64(traffic.arrivals), tickCompletions: Int64(traffic.completions),
            successesSinceEvaluation: Int64(successesSinceEvaluation),
            probeCredit: errorControl.credit,
            lastProbeNanosecondsAgo: errorControl.mode == .open ? max(0, now - errorControl.lastProbeAt) : 0,
            probeFailureRate: errorControl.probeFailureRate, probeCount: errorControl.probeCount,
            limiterPhase: limiterPhase, limiterNanosecondsAgo: limiterAgo, limiterSpan: span,
            limiterCheckpoint: checkpoint, limiterReference: reference, limiterAdjustments: adjustments,
            limit: limiter.limit, typicalLogLatency: limiter.typicalLog,
            failedProbeStreak: Int64(errorControl.failedProbeStreak),
            latencySetpointLog: limiter.search.centerLog,
            recentArrivalRate: traffic.recentArrivalRate, freshLookRate: errorControl.freshLookRate)
    }

    /// Applies a validated snapshot. Nothing here can fail, so the swap is all or nothing.
    mutating func restore(from snapshot: LeveeSnapshot, at instant: Int64) -> StateChange? {
        outcomes = OutcomeEstimator(rates: snapshot.outcomeRates, counts: snapshot.outcomeCounts)
        detector.reset()
        detector.restore(state: snapshot.detectorState)
        errorControl = ErrorControl()
        switch snapshot.errorMode {
        case 1:
            errorControl.mode = .shedding
            errorControl.rejectionProbability = snapshot.rejectionProbability
        case 2:
            errorControl.mode = .open
            errorControl.rejectionProbability = 1
            errorControl.openedAt = instant &- snapshot.openedNanosecondsAgo
            errorControl.lastProbeAt = instant &- snapshot.lastProbeNanosecondsAgo
            errorControl.recoveryEvidence = snapshot.recoveryEvidence
            errorControl.probeFailureRate = snapshot.probeFailureRate
            errorControl.probeCount = snapshot.probeCount
            errorControl.failedProbeStreak = Int(snapshot.failedProbeStreak ?? 0)
            errorControl.freshLookRate = snapshot.freshLookRate ?? 0
        default:
            break
        }
        errorControl.credit = snapshot.probeCredit
        limiter = ConcurrencyLimiter()
        switch snapshot.limiterPhase {
        case 1:
            limiter.phase = .watching(since: instant &- snapshot.limiterNanosecondsAgo, span: snapshot.limiterSpan,
                                      checkpoint: Int(snapshot.limiterCheckpoint))
        case 2:
            limiter.phase = .limiting(lastAdjustment: instant &- snapshot.limiterNanosecondsAgo,
                                      reference: snapshot.limiterReference, adjustments: Int(snapshot.limiterAdjustments))
            limiter.limit = snapshot.limit
            limiter.engagedAt = instant
            limiter.lastCutAt = instant
        default:
            break
        }
        limiter.baselineLog = snapshot.baselineLogLatency
        limiter.baselineSamples = snapshot.baselineSamples
        limiter.typicalLog = snapshot.typicalLogLatency ?? snapshot.baselineLogLatency
        limiter.recentLog = snapshot.recentLogLatency
        limiter.recentSamples = snapshot.recentSamples
        limiter.search.centerLog = snapshot.latencySetpointLog ?? SetpointSearch.initialLog
        traffic = TrafficEstimator()
        traffic.arrivalRate = snapshot.arrivalRate
        traffic.recentArrivalRate = snapshot.recentArrivalRate ?? snapshot.arrivalRate
        traffic.completionRate = snapshot.completionRate
        traffic.healthyArrivalRate = snapshot.healthyArrivalRate
        traffic.tickStart = instant &- snapshot.tickAgeNanoseconds
        traffic.arrivals = Int(snapshot.tickArrivals)
        traffic.completions = Int(snapshot.tickCompletions)
        permits.reset()
        latest = max(latest, instant)
        successesSinceEvaluation = Int(snapshot.successesSinceEvaluation)
        updateState(at: instant, reason: .restored)
        return takeChange()
    }
}
