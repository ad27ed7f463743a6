/// The time source of ``Levee/run(classify:_:)``: any `Clock` whose durations are
/// `Duration`, read as integer nanoseconds since the moment the `LeveeClock` was made.
///
/// Levee never reads a clock on its own: the explicit-time API takes instants from the caller.
public struct LeveeClock: Sendable {
    let now: @Sendable () -> Int64
    let sleepUntil: @Sendable (Int64) async throws -> Void

    /// Wraps `clock`. The first reading is taken now and becomes instant zero.
    public init<C: Clock>(_ clock: C) where C.Duration == Duration {
        let origin = clock.now
        self.now = { origin.duration(to: clock.now).nanoseconds }
        self.sleepUntil = { instant in
            try await clock.sleep(until: origin.advanced(by: .nanoseconds(instant)), tolerance: nil)
        }
    }

    /// The system's continuous (monotonic) clock.
    public static var continuous: LeveeClock { LeveeClock(ContinuousClock()) }

    /// The current instant, in nanoseconds since this clock's origin.
    public func nowNanoseconds() -> Int64 { now() }
}
