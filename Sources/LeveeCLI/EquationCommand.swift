import ArgumentParser
import Foundation
import Levee
import LeveeSimulation

/// `levee equation`: the circuit breaker equation for a set of Semian-style breaker parameters.
struct EquationCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "equation",
        abstract: "Extra worker utilisation spent on half-open probes while dependencies are down.",
        discussion: """
            Computes dependencies × half_open_resource_timeout / (threads × error_timeout), the \
            steady-state share of worker time the breakers' probes take while every dependency is \
            unhealthy, and whether the worker survives it on top of its healthy utilisation. The \
            defaults are the published worked example (42 Redis instances, 2 threads, \
            error_threshold 3, error_timeout 2, success_threshold 2, half_open_resource_timeout \
            0.25: about 263 %); resource_timeout only affects the one-off cost of tripping.

            Beside it, the same figure for Levee's own probe budget with the same dependencies and \
            threads: per dependency max(2 % of the healthy rate, one probe per max(1 s, 2 × SLO \
            timeout)) probes per second, divided by √(1 + outage age / 600 s), each holding a worker \
            for the SLO timeout (a hanging dependency) or --levee-failure-latency. The Levee defaults \
            are 100 calls/s healthy per dependency and an SLO of 0.99 within 0.25 s: 2 probes/s per \
            dependency, 42 × 2 × 0.25 / 2 = 1,050 % at the start of the outage.
            """)

    @Option(name: [.customLong("dependencies")], help: ArgumentHelp("Unhealthy dependencies, one circuit each.", valueName: "n"))
    var dependencies: Int = 42

    @Option(name: [.customLong("threads")], help: ArgumentHelp("Worker threads per process.", valueName: "n"))
    var threads: Int = 2

    @Option(name: [.customLong("error-threshold"), .customLong("error_threshold")],
            help: ArgumentHelp("Errors that open a circuit.", valueName: "n"))
    var errorThreshold: Int = 3

    @Option(name: [.customLong("error-timeout"), .customLong("error_timeout")],
            help: ArgumentHelp("Seconds a circuit stays open before probing.", valueName: "s"))
    var errorTimeout: Double = 2

    @Option(name: [.customLong("success-threshold"), .customLong("success_threshold")],
            help: ArgumentHelp("Successes that close a half-open circuit.", valueName: "n"))
    var successThreshold: Int = 2

    @Option(name: [.customLong("resource-timeout"), .customLong("resource_timeout")],
            help: ArgumentHelp("Seconds a call waits on the dependency while closed.", valueName: "s"))
    var resourceTimeout: Double = 1

    @Option(name: [.customLong("half-open-resource-timeout"), .customLong("half_open_resource_timeout")],
            help: ArgumentHelp("Seconds a half-open probe waits on the dependency.", valueName: "s"))
    var halfOpenResourceTimeout: Double = 0.25

    @Option(name: [.customLong("utilization"), .customLong("baseline-utilization")],
            help: ArgumentHelp("The worker's utilisation while healthy, in [0, 1).", valueName: "fraction"))
    var baselineUtilization: Double = 0

    @Option(name: .customLong("levee-slo"), help: ArgumentHelp("Levee's SLO success rate, strictly between 0 and 1.", valueName: "rate"))
    var leveeSLO: Double = 0.99

    @Option(name: .customLong("levee-slo-timeout"), help: ArgumentHelp("Levee's SLO timeout, seconds (sets the probe floor and how long a hanging probe holds a worker).", valueName: "s"))
    var leveeTimeout: Double = 0.25

    @Option(name: .customLong("levee-rps"), help: ArgumentHelp("Healthy calls per second to each dependency, from this process.", valueName: "rps"))
    var leveeRequestsPerSecond: Double = 100

    @Option(name: .customLong("outage-age"), help: ArgumentHelp("Seconds since the dependencies went down (Levee's probing backs off with it).", valueName: "s"))
    var outageAge: Double = 0

    @Option(name: .customLong("levee-failure-latency"), help: ArgumentHelp("Seconds a failing probe holds a worker (default: the SLO timeout, a hanging dependency).", valueName: "s"))
    var leveeFailureLatency: Double?

    mutating func validate() throws {
        _ = try equation()
        _ = try leveeBudget()
    }

    /// Levee's probe budget for the same dependencies and threads.
    /// - Throws: `ValidationError` naming the bad flag (exit status 2).
    func leveeBudget() throws -> LeveeProbeBudget {
        guard leveeSLO.isFinite, leveeSLO > 0, leveeSLO < 1 else {
            throw ValidationError("--levee-slo must be strictly between 0 and 1, got \(leveeSLO)")
        }
        guard leveeTimeout.isFinite, leveeTimeout > 0, leveeTimeout <= 86_400 else {
            throw ValidationError("--levee-slo-timeout must be a positive number of seconds (at most a day), got \(leveeTimeout)")
        }
        let slo: SLO
        do {
            slo = try SLO(successRate: leveeSLO, timeout: .nanoseconds(Int64((leveeTimeout * 1e9).rounded())))
        } catch {
            throw ValidationError("--levee-slo: \(error)")
        }
        do {
            return try LeveeProbeBudget(
                dependencies: dependencies, threads: threads, slo: slo, healthyRequestsPerSecond: leveeRequestsPerSecond,
                outageAgeSeconds: outageAge, failureLatencySeconds: leveeFailureLatency)
        } catch {
            let flag: String
            switch error {
            case .invalid(let parameter, _):
                flag = "--" + parameter.replacingOccurrences(of: "_", with: "-")
            }
            throw ValidationError("\(flag): \(error)")
        }
    }

    /// The validated equation.
    /// - Throws: `ValidationError` naming the bad flag (exit status 2).
    func equation() throws -> CircuitBreakerEquation {
        do {
            return try CircuitBreakerEquation(
                dependencies: dependencies, threads: threads, errorThreshold: errorThreshold,
                errorTimeout: errorTimeout, successThreshold: successThreshold, resourceTimeout: resourceTimeout,
                halfOpenResourceTimeout: halfOpenResourceTimeout, baselineUtilization: baselineUtilization)
        } catch {
            let flag: String
            switch error {
            case .invalid(let parameter, _):
                flag = "--" + (parameter == "baseline_utilization" ? "utilization" : parameter.replacingOccurrences(of: "_", with: "-"))
            }
            throw ValidationError("\(flag): \(error)")
        }
    }

    /// The report `run()` prints.
    static func render(_ equation: CircuitBreakerEquation) -> String {
        let result = equation.evaluate()
        func percent(_ value: Double) -> String { String(format: "%.1f %%", value * 100) }
        return """
            dependencies \(equation.dependencies), threads \(equation.threads), error_threshold \(equation.errorThreshold), \
            error_timeout \(equation.errorTimeout) s, success_threshold \(equation.successThreshold), \
            resource_timeout \(equation.resourceTimeout) s, half_open_resource_timeout \(equation.halfOpenResourceTimeout) s
            extra utilisation while unhealthy: \(percent(result.extraUtilization))
            (probe counted inside the cycle:   \(percent(result.cycleUtilization)))
            one-off trip cost per thread:      \(String(format: "%.2f", result.tripSecondsPerThread)) s
            total with healthy utilisation \(percent(equation.baselineUtilization)): \(percent(result.totalUtilization))
            survives: \(result.survives ? "yes" : "no")
            """
    }

    /// Levee's figure, printed under the classic breaker's.
    static func render(_ budget: LeveeProbeBudget) -> String {
        let result = budget.evaluate()
        func percent(_ value: Double) -> String { String(format: "%.1f %%", value * 100) }
        func rate(_ value: Double) -> String { String(format: "%.3g", value) }
        return """
            Levee, SLO \(budget.slo.successRate) within \(Double(budget.slo.timeoutNanoseconds) / 1e9) s, \
            \(rate(budget.healthyRequestsPerSecond)) calls/s healthy per dependency, outage age \(budget.outageAgeSeconds) s
            probes per dependency: \(rate(result.probesPerSecond))/s (2 % budget \(rate(result.proportionalProbesPerSecond))/s, \
            floor \(rate(result.floorProbesPerSecond))/s, back-off ÷\(String(format: "%.2f", result.backoff))), \
            each holding a worker \(result.probeSeconds) s
            extra utilisation while unhealthy: \(percent(result.extraUtilization))
            """
    }

    func run() throws {
        let equation = try equation()
        let budget = try leveeBudget()
        let semian = equation.evaluate()
        let levee = budget.evaluate()
        print(Self.render(equation))
        print("")
        print(Self.render(budget))
        print("")
        print(String(format: "side by side: classic breaker %.1f %%, Levee %.1f %% extra utilisation", semian.extraUtilization * 100, levee.extraUtilization * 100))
    }
}
