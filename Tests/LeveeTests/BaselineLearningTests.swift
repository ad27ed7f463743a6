import Testing
@testable import Levee

/// The latency baseline is what the concurrency limiter measures overload against, so a queue
/// that builds up must not teach it, while the dependency's own latency, when it moves for good,
/// must.
@Suite struct BaselineLearningTests {
    static func trained() throws -> (Levee, CoreDriver) {
        let (levee, _, driver) = try CoreDriver.afterHealthyTraffic()
        return (levee, driver)
    }

    @Test func aQueueBuildingUpOverSecondsIsNotLearnedAsNormal() throws {
        var (levee, driver) = try Self.trained()
        let learned = levee.statistics.baselineLatencyNanoseconds
        #expect(abs(learned - 10e6) <= 0.2e6)

        // Latency climbs to 1.9 times the baseline over five seconds, always within the 2x that
        // would start the overload watch: a baseline that followed it would hide the overload.
        for step in 1...10 {
            let latency = Int64(10e6 * (1 + 0.09 * Double(step)))
            driver.run(seconds: 0.5, rate: 1_000, call: CoreDriver.constant(latency: latency, failureRate: 0))
        }
        #expect(levee.statistics.recentLatencyNanoseconds >= 1.8 * learned)
        // At most e^(5 s / 60 s) higher, and in fact only the climb's first part, within the target, counts.
        #expect(levee.statistics.baselineLatencyNanoseconds <= 1.09 * learned)
    }

    @Test func aLastingSlowdownOfTheDependencyIsLearnedWithinMinutes() throws {
        var (levee, driver) = try Self.trained()
        let learned = levee.statistics.baselineLatencyNanoseconds

        // 30 % slower for good: within the target, so nothing is limited, and the baseline follows
        // at its bounded rate (ln 1.3 x 60 s, about 16 s).
        driver.run(seconds: 10, rate: 1_000, call: CoreDriver.constant(latency: 13 * coreMillisecond, failureRate: 0))
        let partway = levee.statistics.baselineLatencyNanoseconds
        #expect(partway > 1.05 * learned && partway < 1.25 * learned)
        driver.run(seconds: 50, rate: 1_000, call: CoreDriver.constant(latency: 13 * coreMillisecond, failureRate: 0))
        #expect(abs(levee.statistics.baselineLatencyNanoseconds - 13e6) <= 0.3e6)
        #expect(levee.statistics.concurrencyLimit == nil)

        // Faster again: followed at once.
        driver.run(seconds: 2, rate: 1_000, call: CoreDriver.constant(latency: 10 * coreMillisecond, failureRate: 0))
        #expect(abs(levee.statistics.baselineLatencyNanoseconds - 10e6) <= 0.5e6)
    }
}
