/// Finds the latency setpoint at which a binding concurrency limit gets the most calls served, by
/// trying a little above and a little below it in turn (extremum seeking).
///
/// How far above its own latency a dependency should be run depends on what the extra latency
/// buys. Where it is a queue, or workers slowed by contention, more calls in flight buy no more
/// completions, or fewer; where idle capacity remains behind a latency that merely stretches with
/// load, they buy more. Latency alone cannot tell these apart; the completions a binding limit
/// gets can. So while the limit binds, the setpoint alternates between `center + offset` and
/// `center − offset` for a half-cycle each. Each half-cycle's first half lets the limit and the
/// dependency settle (a dependency's slowness can follow its load over seconds); its second half
/// counts successes. After each pair the center moves up a step if the higher setpoint was served
/// more by over one standard deviation of the counts' Poisson noise, and down half a step
/// otherwise: with no clear difference the lower latency is the better one.
///
/// The center is learned state and kept in snapshots (from format 4); the half-cycle in progress
/// is not, and a restored search starts a new one.
struct SetpointSearch: Hashable, Sendable {
    /// Log of the setpoint's center, as a multiple of the baseline latency.
    var centerLog = Self.initialLog
    /// ln 1.5, where the search starts.
    static let initialLog = 0.4054651081081644
    /// ln 1.2: below it the noise of a recent latency (a mean of a few dozen calls) cuts a limit
    /// that holds no queue.
    static let lowestLog = 0.1823215567939546
    /// The overload tolerance: steering there would take the limit's own latency for overload.
    static let highestLog = ConcurrencyLimiter.logTolerance
    /// Half the distance between the two setpoints tried, in nats.
    static let offset = 0.1
    /// How far one pair moves the center up, in nats (down: half of it).
    static let step = 0.05
    /// How long each side is tried: long against a dependency that slows with a load smoothed over
    /// seconds, short against the minutes an overload lasts (a pair takes 20 s).
    static let halfCycle: Int64 = 10_000_000_000

    /// +1 while trying above the center, −1 below. A search that starts, or starts over (also after
    /// a half-cycle in which the limit did not bind), tries below first: right after a limit
    /// engages, or binds again, an overload is still building, and a setpoint above the center
    /// would let more of it in (on one closed-loop seed in ten, enough to crash a backend down to
    /// one replica at the midnight storm).
    var side = -1.0
    /// When this half-cycle began; −1: begin at the next step.
    var halfStartedAt: Int64 = -1
    /// Successes counted and the instant when this half-cycle's measured part began (−1: not yet).
    var countedFrom = -1
    var countedSince: Int64 = 0
    /// Control steps in the measured part, and those of them at which the limit bound.
    var steps = 0
    var bindingSteps = 0
    /// Whether the pair's first half-cycle is measured, and its success rate (per second) and that
    /// rate's variance. The second half-cycle is always the other side.
    var hasFirstHalf = false
    var firstRate = 0.0
    var firstVariance = 0.0
    var pairs = 0

    /// The setpoint to steer to now, as a log multiple of the baseline.
    var currentLog: Double { centerLog + side * Self.offset }

    /// Abandons the half-cycle in progress (a re-measurement, the circuit open, the limit
    /// released): what it counted is not comparable with what follows.
    mutating func interrupt() {
        halfStartedAt = -1
        side = -1
    }

    /// One control step of a limit in force. `successes` is a running count of successes.
    mutating func advance(at now: Int64, binding: Bool, successes: Int) {
        if halfStartedAt < 0 {
            halfStartedAt = now
            countedFrom = -1
            hasFirstHalf = false
        }
        let elapsed = now - halfStartedAt
        if countedFrom < 0 {
            if elapsed >= Self.halfCycle / 2 {
                countedFrom = successes
                countedSince = now
                steps = 0
                bindingSteps = 0
            }
            return
        }
        steps += 1
        if binding { bindingSteps += 1 }
        guard elapsed >= Self.halfCycle else { return }
        let seconds = Double(now - countedSince) / 1e9
        let counted = Double(successes &- countedFrom)
        if bindingSteps * 10 < steps * 9 || seconds <= 0 {
            // A limit that did not bind (nine steps in ten) measured the demand, not the
            // dependency. When it binds again, demand has risen: start below, as after an interruption.
            hasFirstHalf = false
            side = -1
        } else if !hasFirstHalf {
            firstRate = counted / seconds
            firstVariance = counted / (seconds * seconds)
            hasFirstHalf = true
            side = -side
        } else {
            let rate = counted / seconds
            let difference = side > 0 ? rate - firstRate : firstRate - rate
            let deviation = (firstVariance + counted / (seconds * seconds)).squareRoot()
            centerLog += difference > deviation ? Self.step : -Self.step / 2
            centerLog = min(max(centerLog, Self.lowestLog), Self.highestLog)
            hasFirstHalf = false
            pairs &+= 1
            // Every other pair starts below, so that a trend in the dependency's own latency does
            // not always favour the same side.
            side = pairs % 2 == 0 ? 1 : -1
        }
        halfStartedAt = now
        countedFrom = -1
    }
}
