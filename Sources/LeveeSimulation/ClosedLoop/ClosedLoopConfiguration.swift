public import Levee

/// Why a closed-loop benchmark could not be configured or run.
public enum ClosedLoopError: Error, Sendable, Hashable, CustomStringConvertible {
    case noCandidates
    case noSeeds
    case invalidClientPolicy(String)
    case invalidBackend(String)
    case invalidScale(String)
    case invalidInstances(Int)
    /// More calls were in flight at one candidate instance than its slot table holds.
    case slotOverrun(capacity: Int, instance: Int, time: Int64)
    /// A sweep that needs Levee and a baseline was given too few candidates.
    case sweepNeedsLeveeAndBaseline

    public var description: String {
        switch self {
        case .noCandidates: "no candidate given"
        case .noSeeds: "no seed given: at least one seed is needed"
        case .invalidClientPolicy(let message): "invalid client policy: \(message)"
        case .invalidBackend(let message): "invalid backend configuration: \(message)"
        case .invalidScale(let message): message
        case .invalidInstances(let count):
            "the number of candidate instances must be between 1 and \(ClosedLoopConfiguration.maximumInstances), got \(count)"
        case .slotOverrun(let capacity, let instance, let time):
            "candidate instance \(instance) had more than \(capacity) calls in flight at \(time) ns"
        case .sweepNeedsLeveeAndBaseline: "a sweep compares Levee with the best other candidate: give levee and at least one other"
        }
    }
}

/// What to run in the closed loop: a scenario's demand against one backend per candidate and
/// seed, through the clients' retry policy and the candidate's decisions.
public struct ClosedLoopConfiguration: Sendable {
    /// The scenario whose RPM column is the exogenous demand (its other columns drive the
    /// backend's health when the backend model says so).
    public var scenario: Scenario
    /// The SLO: Levee is configured with it, clients time out each attempt at its timeout,
    /// and goodput and SLO attainment are judged against it.
    public var slo: SLO
    /// One run per candidate and seed; every candidate sees the same demand within a seed.
    public var seeds: [UInt64]
    /// The candidates, in the order results are reported.
    public var candidates: [CandidateDescriptor]
    /// The backend's constants and model switches (``BackendConfiguration/realistic`` by default).
    public var backend: BackendConfiguration
    /// How clients retry.
    public var clients: ClientPolicy
    /// Candidate instances sharing the backend; attempts are dealt to them round-robin.
    public var instances: Int
    /// Every phase's RPM is multiplied by this and truncated (at least 1 for a phase that had
    /// traffic), as the original's load sweep does.
    public var loadScale: Double
    /// Every phase's error rate is multiplied by this, capped at 0.95, as the original's sweep does.
    public var errorScale: Double
    /// Worker threads.
    public var parallelism: Int
    /// The seed whose runs record series for a report (`nil`: none, and no recording cost).
    public var seriesSeed: UInt64? = nil

    /// The largest number of candidate instances.
    public static let maximumInstances = 1000

    public init(scenario: Scenario, slo: SLO, seeds: [UInt64] = [OpenLoopConfiguration.originalSeed],
                candidates: [CandidateDescriptor] = CandidateDescriptor.closedLoopDefaults,
                backend: BackendConfiguration = .realistic, clients: ClientPolicy = .standard,
                instances: Int = 1, loadScale: Double = 1, errorScale: Double = 1,
                parallelism: Int = OpenLoopBenchmark.availableCores) {
        self.scenario = scenario
        self.slo = slo
        self.seeds = seeds
        self.candidates = candidates
        self.backend = backend
        self.clients = clients
        self.instances = instances
        self.loadScale = loadScale
        self.errorScale = errorScale
        self.parallelism = max(1, parallelism)
    }

    /// Checks everything and returns the scenario as scaled for the run.
    /// - Throws: ``ClosedLoopError`` naming the first problem.
    public func validated() throws(ClosedLoopError) -> Scenario {
        guard !candidates.isEmpty else { throw .noCandidates }
        guard !seeds.isEmpty else { throw .noSeeds }
        guard (1...Self.maximumInstances).contains(instances) else { throw .invalidInstances(instances) }
        _ = try clients.validated()
        do {
            _ = try backend.validated()
        } catch {
            throw .invalidBackend("\(error)")
        }
        return try Self.scaled(scenario, load: loadScale, errors: errorScale)
    }

    /// The scenario with the original's sweep scaling: RPM × `load` truncated (a phase with
    /// traffic keeps at least 1 RPM; an idle phase stays idle), error rate × `errors` capped at 0.95.
    public static func scaled(_ scenario: Scenario, load: Double, errors: Double) throws(ClosedLoopError) -> Scenario {
        guard load.isFinite, load > 0, load <= 100 else {
            throw .invalidScale("the load scale must be a number above 0 and at most 100, got \(load)")
        }
        guard errors.isFinite, errors >= 0, errors <= 100 else {
            throw .invalidScale("the error scale must be a number from 0 to 100, got \(errors)")
        }
        if load == 1 && errors == 1 { return scenario }
        var result = scenario
        result.phases = scenario.phases.map { phase in
            var scaled = phase
            if phase.rpm > 0 { scaled.rpm = max(1, Int(Double(phase.rpm) * load)) }
            // A rate at or above the 0.95 cap stays as it was: the cap only limits scaling up.
            if errors != 1 { scaled.errorRate = min(phase.errorRate * errors, max(0.95, phase.errorRate)) }
            return scaled
        }
        return result
    }
}

extension CandidateDescriptor {
    /// The closed loop's default candidates: every built-in one but BlockAll (which would only
    /// score zero), with AllowAll standing for "no breaker".
    public static var closedLoopDefaults: [CandidateDescriptor] {
        builtIn.filter { $0 != .blockAll }
    }
}
