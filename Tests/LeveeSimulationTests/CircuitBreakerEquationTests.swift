import ArgumentParser
import Testing
@testable import LeveeCLI
import LeveeSimulation

@Suite("The circuit breaker equation")
struct CircuitBreakerEquationTests {
    func example(errorTimeout: Double, halfOpen: Double) throws -> CircuitBreakerEquation {
        try CircuitBreakerEquation(
            dependencies: 42, threads: 2, errorThreshold: 3, errorTimeout: errorTimeout, successThreshold: 2,
            resourceTimeout: 1, halfOpenResourceTimeout: halfOpen)
    }

    @Test("Reproduces the published worked example: about 263 %, then about 4 %")
    func workedExample() throws {
        let bad = try example(errorTimeout: 2, halfOpen: 0.25).evaluate()
        #expect(abs(bad.extraUtilization - 2.625) < 1e-12)
        #expect((bad.extraUtilization * 100).rounded() == 263)
        #expect(!bad.survives)
        let good = try example(errorTimeout: 30, halfOpen: 0.05).evaluate()
        #expect(abs(good.extraUtilization - 0.035) < 1e-12)
        #expect((good.extraUtilization * 100).rounded() == 4)
        #expect(good.survives)
        #expect(good.cycleUtilization < good.extraUtilization)
        #expect(abs(good.tripSecondsPerThread - 63) < 1e-9)
    }

    @Test("Survival accounts for the healthy utilisation")
    func survival() throws {
        let busy = try CircuitBreakerEquation(
            dependencies: 42, threads: 2, errorThreshold: 3, errorTimeout: 30, successThreshold: 2,
            resourceTimeout: 1, halfOpenResourceTimeout: 0.05, baselineUtilization: 0.97)
        #expect(!busy.evaluate().survives)
    }

    @Test("Bad values are rejected, naming the parameter")
    func validation() {
        #expect(throws: CircuitBreakerEquationError.invalid("dependencies", "must be at least 1, got 0")) {
            try CircuitBreakerEquation(dependencies: 0, threads: 2, errorThreshold: 3, errorTimeout: 2,
                                       successThreshold: 2, resourceTimeout: 1, halfOpenResourceTimeout: 0.25)
        }
        for (timeout, halfOpen) in [(0.0, 0.25), (-1, 0.25), (.nan, 0.25), (2, 0), (2, .infinity)] {
            #expect(throws: CircuitBreakerEquationError.self) {
                try CircuitBreakerEquation(dependencies: 1, threads: 1, errorThreshold: 1, errorTimeout: timeout,
                                           successThreshold: 1, resourceTimeout: 1, halfOpenResourceTimeout: halfOpen)
            }
        }
    }

    func status(_ arguments: [String]) -> Int32? {
        do {
            _ = try EquationCommand.parse(arguments)
            return nil
        } catch {
            return LeveeCommand.exitStatus(for: error)
        }
    }

    @Test("levee equation: defaults are the example; bad flags exit 2 with a clear message")
    func command() throws {
        let defaults = try EquationCommand.parse([])
        #expect(abs(try defaults.equation().evaluate().extraUtilization - 2.625) < 1e-12)
        let fixed = try EquationCommand.parse(["--error_timeout", "30", "--half-open-resource-timeout", "0.05"])
        #expect(EquationCommand.render(try fixed.equation()).contains("3.5 %"))
        #expect(status(["--error-timeout", "0"]) == 2)
        #expect(status(["--threads", "0"]) == 2)
        #expect(status(["--half-open-resource-timeout", "abc"]) == 2)
        #expect(status(["--utilization", "1"]) == 2)
        do {
            _ = try EquationCommand.parse(["--error-timeout=-3"])
            Issue.record("should not parse")
        } catch {
            #expect(EquationCommand.message(for: error).contains("--error-timeout: error_timeout must be a positive number"))
        }
    }
}
