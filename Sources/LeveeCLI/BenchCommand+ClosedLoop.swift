import ArgumentParser
import Foundation
import Levee
import LeveeSimulation

/// The options only `levee bench --closed-loop` reads. Optional so that giving one without
/// `--closed-loop` is an error instead of being silently ignored.
struct ClosedLoopOptions: ParsableArguments {
    @Flag(name: .customLong("closed-loop"), help: "Run the closed-loop benchmark instead of the open loop.")
    var enabled = false

    @Option(help: ArgumentHelp("The backend model: 'original' (the Go model exactly) or 'realistic' (default; every improvement on).",
                               valueName: "original|realistic"))
    var model: BackendChoice?

    @Option(help: ArgumentHelp("Client retries: 'none' (the original), 'immediate', or 'backoff' (default: exponential, 100 ms base, 1 s cap, full jitter).",
                               valueName: "none|immediate|backoff"))
    var retry: RetryChoice?

    @Option(help: ArgumentHelp("Attempts per request with retries, the first included (default 3).", valueName: "n"))
    var attempts: Int?

    @Option(name: .customLong("retry-budget"),
            help: ArgumentHelp("Retries allowed per first attempt over 10 s, from 0 to 1 (default 0.1), or 'none' for no budget.",
                               valueName: "ratio|none"))
    var retryBudget: String?

    @Option(help: ArgumentHelp("Candidate instances sharing one backend, attempts dealt round-robin (default 1).", valueName: "n"))
    var instances: Int?

    @Option(name: .customLong("queue-depth"), help: ArgumentHelp("The backend's queue depth per replica (default 50).", valueName: "n"))
    var queueDepth: Int?

    @Option(name: .customLong("load-scale"), help: ArgumentHelp("Multiplies every phase's RPM (truncated, at least 1; default 1).", valueName: "x"))
    var loadScale: Double?

    @Option(name: .customLong("error-scale"), help: ArgumentHelp("Multiplies every phase's error rate (capped at 0.95; default 1).", valueName: "x"))
    var errorScale: Double?

    @Option(help: ArgumentHelp("Run one of the original's sweeps and print Levee's lead over the best other candidate per row.",
                               valueName: "load|slo|queue-depth"))
    var sweep: SweepChoice?

    /// - Throws: `ValidationError` naming the first closed-loop option given without `--closed-loop`.
    func requireClosedLoopForItsOptions() throws {
        let given: [(String, Bool)] = [
            ("--model", model != nil), ("--retry", retry != nil), ("--attempts", attempts != nil),
            ("--retry-budget", retryBudget != nil), ("--instances", instances != nil), ("--queue-depth", queueDepth != nil),
            ("--load-scale", loadScale != nil), ("--error-scale", errorScale != nil), ("--sweep", sweep != nil),
        ]
        if let option = given.first(where: \.1)?.0 {
            throw ValidationError("\(option) applies to the closed loop only: add --closed-loop")
        }
    }

    /// The closed-loop configuration these options describe around the given run, validated.
    /// - Throws: `ValidationError` naming the bad option.
    func configuration(scenario: Scenario, slo: SLO, seeds: [UInt64], candidates: [CandidateDescriptor],
                       threads: Int) throws -> ClosedLoopConfiguration {
        var backend: BackendConfiguration = model == .original ? .original : .realistic
        if let depth = queueDepth {
            guard depth >= 1, depth <= 100_000 else {
                throw ValidationError("--queue-depth must be between 1 and 100000, got \(depth)")
            }
            backend.queueDepthPerReplica = depth
        }
        do {
            backend = try backend.validated()
        } catch {
            throw ValidationError("--queue-depth: \(error)")
        }
        if let instances, !(1...ClosedLoopConfiguration.maximumInstances).contains(instances) {
            throw ValidationError("--instances must be between 1 and \(ClosedLoopConfiguration.maximumInstances), got \(instances)")
        }
        let load = loadScale ?? 1
        guard load.isFinite, load > 0, load <= 100 else {
            throw ValidationError("--load-scale must be above 0 and at most 100, got \(load)")
        }
        let errors = errorScale ?? 1
        guard errors.isFinite, errors >= 0, errors <= 100 else {
            throw ValidationError("--error-scale must be from 0 to 100, got \(errors)")
        }
        let configuration = ClosedLoopConfiguration(
            scenario: scenario, slo: slo, seeds: seeds, candidates: candidates, backend: backend,
            clients: try clientPolicy(), instances: instances ?? 1, loadScale: load, errorScale: errors,
            parallelism: threads)
        do {
            _ = try configuration.validated()
        } catch {
            throw ValidationError("--closed-loop: \(error)")
        }
        return configuration
    }

    /// The closed-loop options as given, for a printed command line that reproduces them.
    var arguments: [String] {
        var result = ["--closed-loop"]
        if let model { result += ["--model", model.rawValue] }
        if let retry { result += ["--retry", retry.rawValue] }
        if let attempts { result += ["--attempts", String(attempts)] }
        if let retryBudget { result += ["--retry-budget", retryBudget] }
        if let instances { result += ["--instances", String(instances)] }
        if let queueDepth { result += ["--queue-depth", String(queueDepth)] }
        if let loadScale { result += ["--load-scale", String(loadScale)] }
        if let errorScale { result += ["--error-scale", String(errorScale)] }
        return result
    }

    /// The client policy the options describe.
    func clientPolicy() throws -> ClientPolicy {
        let retry = self.retry ?? .backoff
        if retry == .none, let attempts, attempts != 1 {
            throw ValidationError("--attempts \(attempts) needs retries: use --retry immediate or backoff")
        }
        let attempts = self.attempts ?? 3
        guard (1...ClientPolicy.attemptLimit).contains(attempts) else {
            throw ValidationError("--attempts must be between 1 and \(ClientPolicy.attemptLimit), got \(attempts)")
        }
        var budget: ClientPolicy.RetryBudget? = .standard
        if let text = retryBudget?.trimmingCharacters(in: .whitespaces) {
            if text.lowercased() == "none" {
                budget = nil
            } else {
                guard let ratio = Double(text), ratio.isFinite, ratio >= 0, ratio <= 1 else {
                    throw ValidationError("--retry-budget must be a ratio from 0 to 1 or 'none', got '\(text)'")
                }
                budget = ClientPolicy.RetryBudget(ratio: ratio)
            }
        }
        let policy: ClientPolicy
        switch retry {
        case .none: policy = .original
        case .immediate: policy = ClientPolicy(retry: .immediate(maxAttempts: attempts), budget: budget)
        case .backoff:
            guard case .exponentialBackoff(let base, let cap, _, let jitter) = ClientPolicy.standard.retry else {
                preconditionFailure("the standard policy backs off")
            }
            policy = ClientPolicy(retry: .exponentialBackoff(baseNanoseconds: base, capNanoseconds: cap, maxAttempts: attempts, jitter: jitter),
                                  budget: budget)
        }
        do {
            return try policy.validated()
        } catch {
            throw ValidationError("--retry: \(error)")
        }
    }
}

enum BackendChoice: String, ExpressibleByArgument, CaseIterable {
    case original, realistic
}

enum RetryChoice: String, ExpressibleByArgument, CaseIterable {
    case none, immediate, backoff
}

enum SweepChoice: String, ExpressibleByArgument, CaseIterable {
    case load, slo, queueDepth = "queue-depth"

    var sweep: ClosedLoopSweep {
        switch self {
        case .load: .load
        case .slo: .slo
        case .queueDepth: .queueDepth
        }
    }
}

extension BenchCommand {
    /// The closed-loop configuration the options describe, validated.
    /// - Throws: `ValidationError` naming the bad option.
    func closedLoopPlan() throws -> (configuration: ClosedLoopConfiguration, sweep: ClosedLoopSweep?) {
        let plan = try plan()
        if report != nil, closedLoop.sweep != nil {
            throw ValidationError("--report charts one benchmark run, not a sweep: drop --report or --sweep")
        }
        var configuration = try closedLoop.configuration(
            scenario: plan.scenario, slo: plan.slo, seeds: plan.seeds, candidates: plan.candidates, threads: plan.threads)
        configuration.seriesSeed = report == nil ? nil : plan.seeds.first
        if let sweep = closedLoop.sweep?.sweep {
            let levee = CandidateDescriptor.levee
            guard plan.candidates.contains(levee), plan.candidates.contains(where: { $0 != levee }) else {
                throw ValidationError("--sweep compares Levee with the best other candidate: --candidates must include levee and another")
            }
            if sweep == .load, closedLoop.loadScale != nil || closedLoop.errorScale != nil {
                throw ValidationError("--sweep load sets the scales itself: drop --load-scale and --error-scale")
            }
            if sweep == .queueDepth, closedLoop.queueDepth != nil {
                throw ValidationError("--sweep queue-depth sets the depth itself: drop --queue-depth")
            }
        }
        return (configuration, closedLoop.sweep?.sweep)
    }

    func runClosedLoop() throws {
        let (configuration, sweep) = try closedLoopPlan()
        let progress = TerminalProgress(enabled: !quiet && TerminalProgress.isTerminal(fileDescriptor: 2))
        let label = "Closed loop on \(configuration.scenario.name), \(configuration.seeds.count) seed(s) × \(configuration.candidates.count) candidate(s)"
        progress.start(label: sweep.map { "\(label), sweep \($0.rawValue)" } ?? label)
        defer { progress.finish() }
        if let sweep {
            let result = try sweep.run(configuration) { progress.update($0) }
            progress.finish()
            print(ClosedLoopTable.render(result))
            try OutputPath.writeJSON(to: json, result.writeJSON(to:))
            return
        }
        let result = try ClosedLoopBenchmark.run(configuration) { progress.update($0) }
        progress.finish()
        print(ClosedLoopTable.render(result))
        try OutputPath.writeJSON(to: json, result.writeJSON(to:))
        if let report {
            guard let series = result.series else { throw UsageError(message: "no series recorded for the report") }
            let page = try ClosedLoopReport(result: result, series: series, configuration: configuration)
            let path = try OutputPath.writing(report, option: "--report") { try page.write(toDirectory: report) }
            print("Report written to \(path)")
        }
    }
}
