import Testing
@testable import Levee

@Suite struct SLOTests {
    @Test func acceptsValidSLO() throws {
        let slo = try SLO(successRate: 0.99, timeout: .milliseconds(250))
        #expect(slo.errorBudget > 0.0099 && slo.errorBudget < 0.0101)
        #expect(slo.timeoutNanoseconds == 250_000_000)
    }
}
