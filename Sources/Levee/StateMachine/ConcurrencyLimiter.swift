/// The latency side of Levee: a concurrency limit that engages only when admission itself is
/// what makes calls slow.
///
/// Little's law says in-flight = throughput × latency. When latency rises well above the learned
/// healthy baseline, two very different causes look alike from the outside: the dependency is
/// slower on its own (exogenous: admitting fewer calls would not make the admitted ones faster),
/// or it is queueing because too many calls are admitted (caused: shedding makes it fall). Rather
/// than guess, the limiter runs a short experiment: it caps concurrency a little below the current
/// in-flight count for a few latencies and compares the latency of calls admitted under the cap
/// with the latency before. If latency responds, the overload is real and a gradient limit
/// (latency tolerance 2× the baseline, √limit headroom) keeps in-flight where the dependency
/// serves calls at near-baseline latency; if it does not, the cap is lifted at once and no new
/// experiment runs until latency gets clearly worse or the episode ends.
struct ConcurrencyLimiter: Hashable, Sendable {
    /// Latency that counts as overload, as a multiple of the healthy baseline.
    static let tolerance = 2.0
    /// The experiment caps in-flight at this fraction of its current value.
    static let trialCut = 0.8
    /// Latency must fall at least this much under the cap for the overload to count as caused.
    static let trialResponse = 0.8
    /// Completions that weigh in the recent latency (EWMA weight 1/recentHorizon).
    static let recentHorizon = 32.0
    /// Completions that weigh in the healthy baseline; it falls faster than it rises.
    static let baselineRiseHorizon = 4096.0
    static let baselineFallHorizon = 256.0

    enum Phase: Hashable, Sendable {
        case idle
        /// Experiment running since `startedAt`; `latencyBefore` is the recent latency then.
        case trial(startedAt: Int64, latencyBefore: Double)
        /// Overload confirmed: the gradient limit is in force. `reference` is the latency that
        /// confirmed it; `adjustments` counts control steps since.
        case limiting(lastAdjustment: Int64, reference: Double, adjustments: Int)
    }

    var phase: Phase = .idle
    var limit: Double = 0
    /// Healthy latency of successful calls, as a natural log of nanoseconds. Latencies are
    /// averaged in the log domain (geometric means) so that a heavy tail of slow calls does not
    /// read as a shift of the whole distribution.
    var baselineLog: Double = 0
    var recentLog: Double = 0
    var recentSamples: Double = 0
    var baselineSamples: Double = 0
    /// Since when the overload signal has held without interruption.
    var overloadedSince: Int64 = .max
    /// Log latency of calls admitted during the running experiment.
    var trialLogSum: Double = 0
    var trialCount: Double = 0
    /// After an exogenous verdict, no new experiment until recent latency exceeds this (0: none pending).
    var suppressedBelow: Double = 0

    /// The limit in force, if any.
    var activeLimit: Int? {
        switch phase {
        case .idle: nil
        case .trial, .limiting: Int(limit.rounded(.down))
        }
    }

    /// Geometric-mean latency of recent successful calls, in nanoseconds (0 before any).
    var recentLatency: Double { recentSamples > 0 ? naturalExp(recentLog) : 0 }
    /// Learned healthy latency, in nanoseconds (0 before any).
    var baselineLatency: Double { baselineSamples > 0 ? naturalExp(baselineLog) : 0 }

    var latencyRatio: Double {
        baselineSamples > 0 && recentSamples > 0 ? naturalExp(recentLog - baselineLog) : 1
    }

    mutating func recordSuccess(latency: Double, acquiredAt: Int64) {
        let sample = naturalLog(max(latency, 1_000))  // 1 µs floor: a zero duration has no logarithm.
        recentSamples = min(recentSamples + 1, Self.recentHorizon)
        recentLog += (sample - recentLog) / recentSamples
        if case .trial(let startedAt, _) = phase, acquiredAt >= startedAt {
            trialLogSum += sample
            trialCount += 1
        }
        // Only healthy periods teach the baseline, so an overload is never learned as normal.
        guard case .idle = phase, suppressedBelow == 0 else { return }
        if baselineSamples > 0, latencyRatio >= Self.tolerance { return }
        let horizon = sample < baselineLog ? Self.baselineFallHorizon : Self.baselineRiseHorizon
        baselineSamples = min(baselineSamples + 1, horizon)
        baselineLog += (sample - baselineLog) / baselineSamples
    }

    enum Event { case engaged, released }

    /// Periodic control step. `allowed` is false while the error side sheds or is open, when the
    /// latency signal is not the binding problem.
    mutating func tick(at now: Int64, inFlight: Int, allowed: Bool, maximum: Int) -> Event? {
        let overloaded = recentSamples >= Self.recentHorizon && baselineSamples >= Self.recentHorizon
            && latencyRatio >= Self.tolerance
        if overloaded, allowed { overloadedSince = min(overloadedSince, now) } else { overloadedSince = .max }
        if suppressedBelow > 0, !overloaded || recentLatency > suppressedBelow {
            suppressedBelow = 0  // The episode ended, or got clearly worse: experiments may run again.
        }
        switch phase {
        case .idle:
            // Experiment only on a settled signal: a latency step seen for a couple of latencies
            // is a new regime, not the transient of a change in traffic.
            guard allowed, overloaded, suppressedBelow == 0, inFlight >= 4,
                  Double(now - overloadedSince) >= 2 * recentLatency else { return nil }
            phase = .trial(startedAt: now, latencyBefore: recentLatency)
            limit = max(1, (Double(inFlight) * Self.trialCut).rounded(.down))
            trialLogSum = 0
            trialCount = 0
            return .engaged
        case .trial(let startedAt, let latencyBefore):
            guard allowed else { return release() }
            let elapsed = Double(now - startedAt)
            let enough = trialCount >= 8 && elapsed >= 3 * latencyBefore
            guard enough || elapsed >= 20 * latencyBefore else { return nil }
            if enough, naturalExp(trialLogSum / trialCount) <= Self.trialResponse * latencyBefore {
                phase = .limiting(lastAdjustment: now, reference: latencyBefore, adjustments: 0)
                return nil
            }
            return exogenous()
        case .limiting(let lastAdjustment, let reference, let adjustments):
            guard allowed else { return release() }
            guard Double(now - lastAdjustment) >= max(recentLatency, 1) else { return nil }
            // A cap that has not brought latency down after many steps is not what limits it.
            if adjustments >= 16, recentLatency >= Self.trialResponse * reference { return exogenous() }
            let gradient = min(max(Self.tolerance * baselineLatency / max(recentLatency, 1), 0.5), 1)
            var next = limit * gradient
            // Grow only when the limit binds: an application that does not use it proves nothing.
            if Double(inFlight) >= limit / 2 { next += limit.squareRoot() }
            limit = min(max(next, 1), Double(maximum))
            phase = .limiting(lastAdjustment: now, reference: reference, adjustments: adjustments + 1)
            if latencyRatio < Self.tolerance * 0.75, Double(inFlight) < limit / 3 {
                return release()
            }
            return nil
        }
    }

    private mutating func exogenous() -> Event {
        suppressedBelow = recentLatency * 1.5
        return release()
    }

    private mutating func release() -> Event {
        phase = .idle
        limit = 0
        return .released
    }
}
