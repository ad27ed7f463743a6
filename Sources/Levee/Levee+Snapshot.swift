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
        return LeveeSnapshot(
            successRate: slo.successRate, timeoutNanoseconds: slo.timeoutNanoseconds,
            outcomeRates: outcomes.rateArray, outcomeCounts: outcomes.countArray,
            detectorState: detector.state, errorMode: mode,
            rejectionProbability: errorControl.rejectionProbability,
            openedNanosecondsAgo: errorControl.mode == .open ? max(0, now - errorControl.openedAt) : 0,
            recoveryEvidence: errorControl.recoveryEvidence,
            baselineLogLatency: limiter.baselineLog, baselineSamples: limiter.baselineSamples,
            recentLogLatency: limiter.recentLog, recentSamples: limiter.recentSamples,
            arrivalRate: traffic.arrivalRate, completionRate: traffic.completionRate)
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
            errorControl.lastProbeAt = instant
            errorControl.recoveryEvidence = snapshot.recoveryEvidence
        default:
            break
        }
        limiter = ConcurrencyLimiter()
        limiter.baselineLog = snapshot.baselineLogLatency
        limiter.baselineSamples = snapshot.baselineSamples
        limiter.recentLog = snapshot.recentLogLatency
        limiter.recentSamples = snapshot.recentSamples
        traffic = TrafficEstimator()
        traffic.arrivalRate = snapshot.arrivalRate
        traffic.completionRate = snapshot.completionRate
        traffic.tickStart = instant
        permits.reset()
        latest = max(latest, instant)
        successesSinceEvaluation = 0
        updateState(at: instant, reason: .restored)
        return takeChange()
    }
}
