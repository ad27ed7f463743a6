/// The latency side of Levee: a concurrency limit that engages only when admission itself is
/// what makes calls slow.
///
/// Little's law says in-flight = throughput × latency. When latency rises well above the learned
/// healthy baseline, two very different causes look alike at first: the dependency is slower on
/// its own (exogenous: admitting fewer calls would not make the admitted ones faster), or it is
/// queueing because more calls arrive than it completes (caused: shedding makes it fall). They
/// part ways over time. After an exogenous slowdown, in-flight rises for about one latency to
/// `rate × new latency` and then levels off; under overload it keeps growing, because arrivals
/// outpace completions. So the limiter watches: when latency is high, it compares in-flight over
/// two consecutive spans of five latencies each (long after any traffic step has settled). Only
/// growth in the second span (beyond Poisson noise) engages the limit; a level in-flight means the
/// slowness is exogenous, and the baseline is re-learned from the new latency: what the limiter
/// protects against is queueing that admission causes, and that is measured from wherever the
/// dependency's own latency now is. No calls are rejected to find out.
///
/// Once engaged, a gradient limit (steering to a setpoint of 1.2–2× the baseline, one step per
/// four mean latencies, √limit headroom, no growth while the limit does not bind) keeps in-flight
/// where the dependency serves calls near its baseline latency, and releases when latency is back
/// and the limit no longer binds. The setpoint is where the binding limit gets the most calls
/// served, found by trying a little above and below it in turn (``SetpointSearch``). A limit in
/// force learns nothing from the calls it admits, which queue, while the dependency's own latency
/// goes on drifting (a baseline left behind pins the limit at its floor, or one left above steers
/// to a standing queue); so once a minute it holds admission at the floor for a few round trips
/// and re-measures the dependency's latency there, as BBR's ProbeRTT does.
struct ConcurrencyLimiter: Hashable, Sendable {
    /// Latency that counts as overload, as a multiple of the healthy baseline.
    static let tolerance = 2.0
    /// Latency past which a success no longer teaches the idle baseline, as a multiple of it: below
    /// the tolerance, so that a queue that builds up is not learned as normal, and well above the
    /// noise of a recent latency, so that the baseline follows the dependency's own drift.
    static let learningCeiling = 1.5
    /// Each watch span lasts this many recent latencies.
    static let watchSpan = 5.0
    /// In-flight growth over the second span that proves arrivals outpace completions.
    static let growth = 1.25
    /// ...and that growth must also exceed the noise of two snapshots of in-flight by this many
    /// standard deviations; short of it, the watch goes on for another span. In-flight is a
    /// Poisson count (variance ≈ mean) once a traffic step has settled, so the difference of two
    /// snapshots has the variance of their sum. Every peak that is also slower starts the watch:
    /// at four deviations a healthy peak is limited about once in 30,000 (counting one snapshot's
    /// variance at three, as before, about once in 50). A queue that admission builds grows in
    /// proportion to itself, so another span proves it.
    static let growthDeviations = 4.0
    /// Completions that weigh in the recent latency (EWMA weight 1/recentHorizon).
    static let recentHorizon = 32.0
    /// Completions that weigh in the typical healthy latency.
    static let typicalHorizon = 256.0
    /// The baseline follows the typical latency down at once but up by at most a factor e per
    /// this many seconds: a queue builds up in seconds and must not be learned as normal, while
    /// a dependency's own latency drifts over minutes (large exogenous steps are re-learned at once
    /// by the watch).
    static let baselineRiseSeconds = 60.0

    enum Phase: Hashable, Sendable {
        case idle
        /// Latency is high: watching in-flight since `since` over spans of `span` nanoseconds
        /// (fixed when the watch starts: in a runaway, latency grows faster than time passes);
        /// `checkpoint` is in-flight at the end of the first span (0 until then).
        case watching(since: Int64, span: Double, checkpoint: Int)
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
    /// Geometric-mean latency of recent healthy successes, unbiased; the baseline trails it.
    var typicalLog: Double = 0
    var recentLog: Double = 0
    var recentSamples: Double = 0
    /// Arithmetic mean of the same recent latencies, in nanoseconds: what spaces the control
    /// steps (see ``stepInterval``). Transient: a restored limiter spaces them by the geometric mean
    /// until it has relearned it.
    var recentMeanLatency: Double = 0
    /// Successes since creation (wrapping; transient), and the search for the latency the gradient
    /// steers to, which compares how many a binding limit gets at two setpoints (its center is kept
    /// in snapshots, its half-cycle in progress is not).
    var successCount = 0
    var search = SetpointSearch()
    /// `successCount` at the last control step of a limit in force, so that a step can tell whether
    /// a success came since. Transient: not in snapshots (a restored limit waits one step longer
    /// before it grows).
    var successCountAtAdjustment = 0
    /// Consecutive control steps, also transient, with healthy latency and a limit that does not bind.
    var slackSteps = 0
    static let slackStepsBeforeRelease = 16
    /// A limit in force re-measures the dependency's own latency this often (nanoseconds): the
    /// baseline learns nothing while a limit binds, and the dependency's latency drifts.
    static let remeasureInterval: Int64 = 60_000_000_000
    /// Successes at the floor that make one measurement.
    static let remeasureSamples = 16

    /// A re-measurement of the dependency's own latency under a limit, as BBR's ProbeRTT does it:
    /// admission is held at the floor until in-flight has drained there, and the calls made after
    /// that cannot queue behind Levee's own, so their latency is the dependency's.
    enum Remeasurement: Hashable, Sendable {
        case idle
        case draining
        case measuring(from: Int64, samples: Int, logSum: Double)
    }

    /// Transient, not in snapshots: a restored limit re-measures at its first step.
    var remeasurement = Remeasurement.idle
    /// When the limit engaged or last measured the dependency's latency.
    var measuredAt: Int64 = 0
    /// When the limit in force engaged, and when refusals last engaged or cut it. Transient: a
    /// restored limit counts both from its restoration.
    var engagedAt: Int64 = 0
    var lastCutAt: Int64 = 0
    var baselineSamples: Double = 0
    /// Share of recent successes that were as fast as a refusal (under `fastFailureShare` of the
    /// baseline), and how many successes it has seen. Transient: a restored limiter relearns it.
    var fastSuccessShare: Double = 0
    var fastSuccessSamples: Double = 0
    /// Failures lately, and those of them as fast as a refusal, each count decayed by
    /// `refusalDecay` per failure. Transient.
    var recentFailures: Double = 0
    var recentFastFailures: Double = 0
    /// Share of recent successes that took half the caller's deadline or more (over the same
    /// successes as `fastSuccessShare`), and failures lately that took the whole deadline (decayed
    /// as `recentFailures`). Transient.
    var slowSuccessShare: Double = 0
    var recentDeadlineFailures: Double = 0

    /// The limit in force, if any. Inlined: called out of line, the getter was handed a copy of
    /// the whole limiter (136 bytes, a `memcpy` per admission).
    var activeLimit: Int? {
        @inline(__always) get {
            switch phase {
            case .idle, .watching: return nil
            case .limiting:
                let enforced = Int(limit.rounded(.down))
                if case .idle = remeasurement { return enforced }
                return min(enforced, Int(Self.overloadFloor))
            }
        }
    }

    /// Geometric-mean latency of recent successful calls, in nanoseconds (0 before any).
    var recentLatency: Double { recentSamples > 0 ? naturalExp(recentLog) : 0 }
    /// The gradient limit's control step, in nanoseconds: `latenciesPerStep` mean latencies of
    /// recent successes. Calls admitted before a cut go on completing for one mean latency (with
    /// heavy-tailed service times the mean is well above the geometric mean the gradient steers
    /// by), and a step that came sooner would read their latencies as the cut's and cut again.
    /// Halving on refusals keeps the geometric mean's spacing: refusals are fresh evidence, and a
    /// deep queue must come down fast.
    var stepInterval: Double { Self.latenciesPerStep * max(recentMeanLatency, recentLatency, 1) }
    /// Mean latencies per control step. One is only the calls in flight at a step draining; the
    /// latency the gradient reads (an average of the last 32 successes) and a dependency whose
    /// slowness follows a load smoothed over seconds both lag further. Stepping every latency,
    /// the gradient answered its own earlier steps: a closed-loop trace showed the limit swinging
    /// from 29 to 2 and back every 0.8 s at a 35 ms latency, holding the backend near the
    /// autoscaler's target so that the fleet grew slowly. Measured in the closed loop (random
    /// scenarios and Cyber Monday), 2 to 16 latencies per step all serve more than 1, 3 to 16
    /// about equally, and 32 starves some; 4 is the quickest of that plateau (docs/benchmarks.md).
    static let latenciesPerStep = 4.0
    /// Learned healthy latency, in nanoseconds (0 before any).
    var baselineLatency: Double { baselineSamples > 0 ? naturalExp(baselineLog) : 0 }

    var latencyRatio: Double {
        baselineSamples > 0 && recentSamples > 0 ? naturalExp(recentLog - baselineLog) : 1
    }

    /// ln(tolerance): the overload test compares log latencies, with no exponential on the hot path.
    static let logTolerance = 0.6931471805599453
    /// ln(learningCeiling).
    static let logLearningCeiling = 0.4054651081081644

    /// Adds a sample to an average that is the plain mean of its first `horizon` samples and then
    /// an exponentially weighted one (weight `1/horizon`): unbiased from the first sample.
    @inline(__always)
    private static func average(_ mean: inout Double, samples: inout Double, adding sample: Double, horizon: Double) {
        if samples < horizon {
            samples += 1
            mean += (sample - mean) / samples
        } else {
            mean += (sample - mean) * (1 / horizon)
        }
    }

    /// Two such averages of the same samples, sharing their count (one branch and one count).
    @inline(__always)
    private static func average(_ first: inout Double, and second: inout Double, samples: inout Double,
                                adding a: Double, and b: Double, horizon: Double) {
        if samples < horizon {
            samples += 1
            first += (a - first) / samples
            second += (b - second) / samples
        } else {
            first += (a - first) * (1 / horizon)
            second += (b - second) * (1 / horizon)
        }
    }

    /// Returns whether the success ended a re-measurement, which gives the limit in force back.
    mutating func recordSuccess(latency: Double, acquiredAt: Int64, deadline: Double) -> Bool {
        successCount &+= 1
        let sample = fastLog(max(latency, 1_000))  // 1 µs floor: a zero duration has no logarithm.
        let fast: Double = sample < baselineLog - Self.logFastFailureRatio ? 1 : 0
        let slow: Double = 2 * latency >= deadline ? 1 : 0
        Self.average(&fastSuccessShare, and: &slowSuccessShare, samples: &fastSuccessSamples,
                     adding: fast, and: slow, horizon: Self.fastShareHorizon)
        Self.average(&recentLog, samples: &recentSamples, adding: sample, horizon: Self.recentHorizon)
        // The arithmetic mean takes the same weight, from the count the geometric one just advanced.
        recentMeanLatency += recentSamples < Self.recentHorizon
            ? (latency - recentMeanLatency) / recentSamples
            : (latency - recentMeanLatency) * (1 / Self.recentHorizon)
        if case .measuring(let from, let samples, let logSum) = remeasurement, acquiredAt >= from {
            guard samples + 1 == Self.remeasureSamples else {
                remeasurement = .measuring(from: from, samples: samples + 1, logSum: logSum + sample)
                return false
            }
            remeasured(logLatency: (logSum + sample) / Double(Self.remeasureSamples), at: acquiredAt &+ Int64(latency))
            return true
        }
        // Only healthy periods teach the baseline, so an overload is never learned as normal.
        guard case .idle = phase else { return false }
        // Recent calls well above the baseline may be queueing: not healthy samples.
        if baselineSamples > 0, recentLog - baselineLog >= Self.logLearningCeiling { return false }
        baselineSamples = min(baselineSamples + 1, Self.typicalHorizon)
        typicalLog += (sample - typicalLog) / baselineSamples
        // Until enough is known the baseline is the typical latency; after that it rises only in `tick`.
        if baselineSamples < Self.recentHorizon || typicalLog < baselineLog { baselineLog = typicalLog }
        return false
    }

    /// The dependency's own latency, measured at the floor, becomes the baseline: at once when it is
    /// lower (the limit steered to a latency the dependency no longer has).
    ///
    /// A higher one is believed only while the limit itself is near the floor (under twice it),
    /// where Levee sends too little to load the dependency. Under a larger limit the
    /// measurement drains Levee's calls for a round trip or two, but a dependency slowed by its own
    /// load (a smoothed CPU load, garbage collection, a backlog of its own) stays slow for seconds
    /// after: learning that as its latency raises the baseline, and steering above it holds
    /// a standing queue and a load past what the dependency serves best, which the next
    /// measurement reads higher again. A baseline that is too low instead pins the limit near the
    /// floor, and there the next measurement is clean.
    ///
    /// A drift is also only short of the tolerance, the band where the idle limiter neither learns
    /// nor watches, and is followed at the baseline's bounded rise since the last measurement;
    /// beyond it the dependency is in an incident (or still serving calls whose clients gave up),
    /// and growing the limit there would feed it.
    private mutating func remeasured(logLatency: Double, at now: Int64) {
        if logLatency < baselineLog {
            baselineLog = logLatency
        } else if logLatency - baselineLog < Self.logTolerance, !canShrink {
            let rise = Double(max(now - measuredAt, 0)) / 1e9 / Self.baselineRiseSeconds
            baselineLog = min(logLatency, baselineLog + rise)
        }
        typicalLog = baselineLog
        endRemeasurement(at: now)
        // The next control step waits a round trip, for in-flight to refill from the floor.
        if case .limiting(_, let reference, let adjustments) = phase {
            phase = .limiting(lastAdjustment: now, reference: reference, adjustments: adjustments)
        }
    }

    /// Lets the baseline rise towards the typical latency, at the bounded rate, over `seconds`.
    mutating func advanceBaseline(seconds: Double) {
        guard typicalLog > baselineLog else { return }
        baselineLog = min(typicalLog, baselineLog + seconds / Self.baselineRiseSeconds)
    }

    enum Event { case engaged, released }

    /// A failure faster than this share of the healthy latency was turned away, not served: a
    /// full queue's fast rejection (a 503). `1 / tolerance⁴`: even a heavy-tailed latency profile
    /// (p99 ten times p50) puts a served call there about once in 10⁵.
    static let fastFailureShare = 1 / 16.0
    /// ln(1 / fastFailureShare), to compare log latencies.
    static let logFastFailureRatio = 2.772588722239781
    /// Successes that weigh in `fastSuccessShare`.
    static let fastShareHorizon = 1_024.0
    /// Where successes are (almost) never as fast as a refusal, a fast failure is one. A latency
    /// profile with mass near zero (exponential service times put 3.5 % of calls under a sixteenth
    /// of their geometric mean) also fails that fast in the ordinary way: there, during a healthy
    /// burst that raises in-flight, each such failure would cut the limit. There, fast failures are
    /// refusals only while they are far more common among failures than fast successes among
    /// successes (four deviations beyond what that share predicts): a full queue refuses by the
    /// hundred, an ordinary failure is fast at the successes' rate.
    static let ordinaryFastShare = 1 / 1_024.0
    /// Each failure weighs `1 − refusalDecay` of the last 64 or so in `recentFastFailures` and
    /// `recentDeadlineFailures`.
    static let refusalDecay = 63 / 64.0
    /// Below this limit, refusals are no longer explained by what Levee admits.
    static let overloadFloor = 4.0

    /// What marks a failure as a queue's refusal: it came back at once (a 503), or it ran out the
    /// caller's deadline while the calls that got through were slow (a queue that holds its
    /// overflow until the caller gives up).
    enum Refusal { case fast, deadline }

    /// Whether a failure that took `latency` nanoseconds, with `inFlight` calls still out, is a
    /// refusal caused by admission, and which kind: fast (the dependency turned it away), or at the
    /// caller's `deadline` while recent successes are slow, in either case while far more calls are
    /// out than `callRate` (the caller passes the lowest of the healthy offered rate, the current
    /// offered rate and the completion rate, so that what an open circuit's probes and recovery
    /// ramp send is measured against what they send) keeps out at the healthy latency (Little's
    /// law), by the squared tolerance and beyond Poisson noise: a queue has formed. A dependency
    /// that fails everything fast drains in-flight to almost nothing, and where successes are also
    /// that fast now and then, fast failures must be far more common than that (see
    /// `ordinaryFastShare`). Timeouts must likewise be far more common among failures than successes
    /// past half the deadline are among successes: a dependency slow on its own times out about as
    /// often as its tail predicts, and one that hangs sends no slow successes. Once a limit is in
    /// force, refusals mean it is still above what the dependency holds, until it is down to the
    /// floor, where they are the dependency's own; but a timeout of a call admitted (at
    /// `acquiredAt`) before the limit engaged is that queue's overflow wherever the limit is now.
    /// Called for every failure: it counts the fast ones and the timeouts.
    mutating func isOverloadRefusal(latency: Double, acquiredAt: Int64, inFlight: Int, callRate: Double,
                                    deadline: Double) -> Refusal? {
        guard baselineSamples >= Self.recentHorizon, fastSuccessSamples >= Self.recentHorizon else { return nil }
        let baseline = baselineLatency
        let fast = latency < Self.fastFailureShare * baseline
        let timedOut = latency >= deadline
        recentFailures = recentFailures * Self.refusalDecay + 1
        recentFastFailures = recentFastFailures * Self.refusalDecay + (fast ? 1 : 0)
        recentDeadlineFailures = recentDeadlineFailures * Self.refusalDecay + (timedOut ? 1 : 0)
        guard Double(inFlight) >= Self.overloadFloor else { return nil }
        // Admitted before the limit, into the queue that made it: its timeout is that queue's
        // overflow, however far the limit (and latency) have come down since.
        if timedOut, case .limiting = phase, acquiredAt < engagedAt { return .deadline }
        let kind: Refusal
        if fast {
            if fastSuccessShare >= Self.ordinaryFastShare,
               !Self.isFarMoreCommon(recentFastFailures, among: recentFailures, than: fastSuccessShare) {
                return nil
            }
            kind = .fast
        } else if timedOut {
            // A queue's calls run out their deadline while the ones that get through are slow; a
            // dependency that is slow on its own fails at the deadline no more often than its
            // successes take half of it.
            guard isOverloaded,
                  Self.isFarMoreCommon(recentDeadlineFailures, among: recentFailures, than: slowSuccessShare)
            else { return nil }
            kind = .deadline
        } else {
            return nil
        }
        if case .limiting = phase { return limit > Self.overloadFloor ? kind : nil }
        let healthy = callRate * baseline / 1e9
        let queued = Self.tolerance * Self.tolerance * healthy
        return Double(inFlight) >= queued + 3 * queued.squareRoot() ? kind : nil
    }

    /// Whether `count` of the `failures` is far more than `share` of them: four Poisson deviations
    /// beyond it, and at least one more.
    private static func isFarMoreCommon(_ count: Double, among failures: Double, than share: Double) -> Bool {
        let expected = failures * share
        return count >= expected + 4 * expected.squareRoot() + 1
    }

    /// Whether a refusal should cut the limit in force. A fast one always does. A timeout comes a
    /// deadline after its call was admitted, so it tells about the limit only if that call was
    /// admitted under it, after the last cut; with no limit in force, any refusal engages one.
    func cuts(_ refusal: Refusal, admittedAt acquiredAt: Int64) -> Bool {
        guard refusal == .deadline, case .limiting = phase else { return true }
        return acquiredAt >= lastCutAt
    }

    /// Whether the limit in force can still come down far enough to tell overload from a sick
    /// dependency.
    var canShrink: Bool {
        if case .limiting = phase { return limit >= 2 * Self.overloadFloor }
        return false
    }

    /// Multiplicative decrease on a refusal caused by admission: the first one engages the limit at
    /// half the calls out, each later one halves it again, at most once per recent (geometric-mean)
    /// latency (one round trip, as TCP does), so that the refusals of calls sent before a cut do
    /// not count twice.
    mutating func recordOverloadRefusal(at now: Int64, inFlight: Int, throughput: Double, maximum: Int) -> Event? {
        switch phase {
        case .idle, .watching:
            // Little's law: what the dependency was completing, held at its healthy latency, is the
            // in-flight it served without queueing; the latency tolerance is the headroom (as BBR's
            // window is twice its bandwidth-delay product).
            let served = Self.tolerance * throughput * baselineLatency / 1e9
            limit = min(max(min(Double(inFlight) / 2, served), Self.overloadFloor), Double(maximum))
            // No latency reference (0): the limit answers refusals, not a latency that it should bring down.
            phase = .limiting(lastAdjustment: now, reference: 0, adjustments: 0)
            measuredAt = now
            engagedAt = now
            lastCutAt = now
            return .engaged
        case .limiting(let lastAdjustment, let reference, let adjustments):
            guard Double(now - lastAdjustment) >= max(recentLatency, 1) else { return nil }
            limit = max(limit / 2, Self.overloadFloor)
            phase = .limiting(lastAdjustment: now, reference: reference, adjustments: adjustments)
            lastCutAt = now
            return nil
        }
    }

    /// Whether enough latencies are known and the recent one is `tolerance` times the baseline
    /// or more. Every tick asks, so the exponential is only taken near the boundary: 0.001 nats
    /// from it the ratio is 0.1 % off the tolerance, far beyond any rounding of `exp`, and the
    /// answer is the one `latencyRatio >= tolerance` gives.
    var isOverloaded: Bool {
        guard recentSamples >= Self.recentHorizon && baselineSamples >= Self.recentHorizon else { return false }
        let logRatio = recentLog - baselineLog
        if logRatio < Self.logTolerance - 0.001 { return false }
        if logRatio > Self.logTolerance + 0.001 { return true }
        return latencyRatio >= Self.tolerance
    }

    /// Periodic control step. `allowed` is false while the error side sheds or is open, when the
    /// latency signal is not the binding problem.
    mutating func tick(at now: Int64, inFlight: Int, allowed: Bool, maximum: Int) -> Event? {
        switch phase {
        case .idle:
            guard allowed, isOverloaded else { return nil }
            phase = .watching(since: now, span: Self.watchSpan * max(recentLatency, 1), checkpoint: 0)
            return nil
        case .watching(let since, let span, let checkpoint):
            guard allowed, isOverloaded else {
                phase = .idle
                return nil
            }
            let elapsed = Double(now - since)
            if checkpoint == 0 {
                if elapsed >= span { phase = .watching(since: since, span: span, checkpoint: max(inFlight, 1)) }
                return nil
            }
            guard elapsed >= 2 * span else { return nil }
            guard Double(inFlight) >= Self.growth * Double(checkpoint), inFlight >= 4 else {
                phase = .idle
                _ = exogenous()
                return nil
            }
            let grown = Double(inFlight - checkpoint)
            guard grown >= Self.growthDeviations * Double(checkpoint + inFlight).squareRoot() else {
                // A quarter more, but within the noise of two snapshots: neither growth nor a level
                // (a level would re-learn the baseline from what may be a queue). One more span
                // from here decides, at the span of the latency now: a queue's latency rises with it.
                let next = Self.watchSpan * max(recentLatency, 1)
                phase = .watching(since: now &- Int64(next.rounded(.up)), span: next, checkpoint: inFlight)
                return nil
            }
            // Arrivals outpace completions: cap at the level before the second span's growth.
            phase = .limiting(lastAdjustment: now, reference: recentLatency, adjustments: 0)
            measuredAt = now
            engagedAt = now
            lastCutAt = now
            limit = Double(min(checkpoint, maximum))
            return .engaged
        case .limiting(let lastAdjustment, let reference, let adjustments):
            // While the circuit is open the limit stays as it was: it bounds what probes and the recovery
            // ramp send into a dependency that, overloaded, may only be serving slowly.
            guard allowed else { search.interrupt(); return nil }
            advanceRemeasurement(at: now, inFlight: inFlight)
            // While a measurement holds admission at the floor, in-flight says nothing about the limit.
            guard case .idle = remeasurement else { search.interrupt(); return nil }
            guard Double(now - lastAdjustment) >= stepInterval else { return nil }
            let binding = Double(inFlight) >= limit / 2
            search.advance(at: now, binding: binding, successes: successCount)
            // A cap that has not brought latency down after 16 steps is not what limits it. Judged
            // once: a later rise of latency is new evidence, for the gradient to answer, and
            // taking it for the dependency's own would drop the limit in the middle of an overload.
            if adjustments == 16, reference > 0, recentLatency >= 0.8 * reference { return exogenous() }
            let setpoint = naturalExp(search.currentLog)
            let gradient = min(max(setpoint * baselineLatency / max(recentLatency, 1), 0.5), 1)
            var next = limit * gradient
            // Grow only when the limit binds: an application that does not use it proves nothing.
            // And only when latency is within the setpoint: growth beyond it only deepens the queue.
            // (below the floor it always grows, so a slow dependency is still probed at a few calls).
            // Growth also needs fresh evidence, a success since the last step: a dependency that has
            // stopped answering would otherwise look as fast as it last was.
            if binding, successCount != successCountAtAdjustment,
               latencyRatio < setpoint || limit < Self.overloadFloor {
                next += limit.squareRoot()
            }
            successCountAtAdjustment = successCount
            limit = min(max(next, 1), Double(maximum))
            phase = .limiting(lastAdjustment: now, reference: reference, adjustments: adjustments + 1)
            // Latency is back and the limit is far from binding; or it has not bound (nor grown) for
            // many steps while latency stayed healthy, so that no limit lingers that neither grows nor goes.
            if latencyRatio < setpoint, Double(inFlight) < limit / 2 { slackSteps += 1 } else { slackSteps = 0 }
            if latencyRatio < setpoint, Double(inFlight) < limit / 3 || slackSteps >= Self.slackStepsBeforeRelease {
                return release()
            }
            return nil
        }
    }

    /// Starts a re-measurement when one is due, starts counting once in-flight is down at the
    /// floor, and gives up on one that gets no answers (it is tried again an interval later).
    private mutating func advanceRemeasurement(at now: Int64, inFlight: Int) {
        switch remeasurement {
        case .idle:
            if now - measuredAt >= Self.remeasureInterval { remeasurement = .draining }
        case .draining:
            if Double(inFlight) <= Self.overloadFloor { remeasurement = .measuring(from: now, samples: 0, logSum: 0) }
            else if now - measuredAt >= 2 * Self.remeasureInterval { endRemeasurement(at: now) }
        case .measuring(let from, _, _):
            // Four calls per round trip give the samples in a few round trips of the baseline.
            let patience = 4 * Double(Self.remeasureSamples) * max(baselineLatency, recentLatency, 1)
            if Double(now - from) > patience { endRemeasurement(at: now) }
        }
    }

    /// Done or given up: the next one is due an interval from now.
    private mutating func endRemeasurement(at now: Int64) {
        remeasurement = .idle
        measuredAt = now
    }

    /// The slowness is the dependency's own: take its current latency as the new baseline.
    private mutating func exogenous() -> Event {
        rebaseline()
        return release()
    }

    private mutating func rebaseline() {
        baselineLog = recentLog
        typicalLog = recentLog
        baselineSamples = min(recentSamples, Self.typicalHorizon)
    }

    private mutating func release() -> Event {
        phase = .idle
        search.interrupt()
        slackSteps = 0
        remeasurement = .idle
        limit = 0
        return .released
    }
}
