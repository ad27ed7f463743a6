import ArgumentParser
import Foundation
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

    mutating func validate() throws {
        _ = try equation()
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

    func run() throws {
        print(Self.render(try equation()))
    }
}
