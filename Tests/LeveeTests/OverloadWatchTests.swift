import Testing
@testable import Levee

/// The overload watch's decision, driven directly: after a latency rise, in-flight must grow over
/// the second span by a quarter *and* beyond the noise of two Poisson snapshots before a limit
/// engages. Healthy traffic that is both heavier and slower settles at a higher in-flight and then
/// only fluctuates; a queue that admission builds keeps growing.
@Suite struct OverloadWatchTests {
    static let milliseconds: Int64 = 1_000_000

    /// A limiter that learned a 50 ms baseline and now sees calls take 125 ms, watching since the
    /// returned instant over spans of the returned length.
    func watchingLimiter() -> (limiter: ConcurrencyLimiter, since: Int64, span: Int64) {
        var limiter = ConcurrencyLimiter()
        var now: Int64 = 0
        for _ in 0..<300 {
            now += 5 * Self.milliseconds
            _ = limiter.recordSuccess(latency: Double(50 * Self.milliseconds), acquiredAt: now - 50 * Self.milliseconds, deadline: 1.5e9)
        }
        for _ in 0..<64 {
            now += 2 * Self.milliseconds
            _ = limiter.recordSuccess(latency: Double(125 * Self.milliseconds), acquiredAt: now - 125 * Self.milliseconds, deadline: 1.5e9)
        }
        #expect(limiter.isOverloaded)
        #expect(limiter.tick(at: now, inFlight: 80, allowed: true, maximum: 1 << 16) == nil)
        guard case .watching(let since, let span, _) = limiter.phase else {
            Issue.record("the watch did not start: \(limiter.phase)")
            return (limiter, now, 0)
        }
        return (limiter, since, Int64(span.rounded(.up)))
    }

    enum Verdict: Equatable { case engaged, watchingOn, level }

    /// What the watch decides when in-flight is `checkpoint` after the first span and `final` after
    /// the second; a limiter still watching is returned to go on with.
    func verdict(checkpoint: Int, final: Int) -> (Verdict, ConcurrencyLimiter, Int64) {
        var (limiter, since, span) = watchingLimiter()
        _ = limiter.tick(at: since + span, inFlight: checkpoint, allowed: true, maximum: 1 << 16)
        let now = since + 2 * span
        if limiter.tick(at: now, inFlight: final, allowed: true, maximum: 1 << 16) == .engaged {
            return (.engaged, limiter, now)
        }
        if case .watching = limiter.phase { return (.watchingOn, limiter, now) }
        #expect(limiter.phase == .idle)
        return (.level, limiter, now)
    }

    @Test("Less than a quarter more is a level: the slowness is the dependency's own")
    func levelIsExogenous() {
        #expect(verdict(checkpoint: 100, final: 120).0 == .level)
        #expect(verdict(checkpoint: 1_000, final: 1_240).0 == .level)
    }

    @Test("A quarter more but within four deviations of two snapshots decides nothing yet")
    func noiseWatchesOn() {
        // +30 on 100 is a quarter more, but only 2 standard deviations of the difference of two
        // Poisson counts (√230 ≈ 15): counted as growth, about one healthy peak in 40 was limited.
        #expect(verdict(checkpoint: 100, final: 130).0 == .watchingOn)
        #expect(verdict(checkpoint: 100, final: 160).0 == .watchingOn)
    }

    @Test("After noise, a settled in-flight is a level and a growing one engages")
    func theNextSpanDecides() throws {
        for (next, expected) in [(135, Verdict.level), (260, .engaged)] {
            var (_, limiter, now) = verdict(checkpoint: 100, final: 130)
            guard case .watching(_, let span, let checkpoint) = limiter.phase else {
                Issue.record("not watching: \(limiter.phase)")
                return
            }
            #expect(checkpoint == 130)
            // Nothing is decided before the span is over.
            #expect(limiter.tick(at: now + Int64(span) / 2, inFlight: next, allowed: true, maximum: 1 << 16) == nil)
            if case .watching = limiter.phase {} else { Issue.record("decided early: \(limiter.phase)") }
            now += Int64(span.rounded(.up))
            let event = limiter.tick(at: now, inFlight: next, allowed: true, maximum: 1 << 16)
            #expect((event == .engaged ? Verdict.engaged : limiter.phase == .idle ? .level : .watchingOn) == expected)
            if expected == .engaged { #expect(limiter.activeLimit == 130) }
        }
    }

    @Test("Growth beyond both engages the limit at the level before it")
    func growthEngages() {
        let (verdictAt100, limiter, _) = verdict(checkpoint: 100, final: 170)
        #expect(verdictAt100 == .engaged)
        #expect(limiter.activeLimit == 100)
        #expect(verdict(checkpoint: 1_000, final: 1_300).0 == .engaged)
        #expect(verdict(checkpoint: 10, final: 40).0 == .engaged)
    }
}
