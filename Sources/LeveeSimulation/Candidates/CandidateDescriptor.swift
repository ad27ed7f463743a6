/// A named candidate the benchmark can run: how to build it and how costly it is per event.
///
/// Register a new policy by adding a descriptor to ``builtIn`` (or passing your own to the
/// benchmark configuration); nothing else in the harness needs to change.
public struct CandidateDescriptor: Sendable, Hashable, CustomStringConvertible {
    /// The name used on the command line (`static-peak`).
    public let identifier: String
    /// The name shown in tables (`Static-Peak`).
    public let displayName: String
    /// One line on what the candidate is.
    public let summary: String
    /// Relative cost per event, used only to balance candidate groups across cores: 1 is
    /// Static-Peak's lane, which admits in bulk while closed (about 24 instructions per event);
    /// generating the stream counts as 16. The built-in values are instruction counts of each
    /// lane on Cyber Monday shortened twentyfold (`docs/performance.md`); the calibration
    /// candidates, which need no lane, cost 0.
    public let relativeCost: Double

    let makeLane: @Sendable (LaneContext) -> LaneDriver
    /// For a candidate that decides every call the same way (``FixedDecisionCandidate``), what it
    /// decides and the state it reports: the open loop derives its outcome from the stream's
    /// tallies instead of running a lane.
    let fixedDecision: (@Sendable (CandidateEnvironment) -> FixedDecision)?
    /// Runs the closed loop with this candidate type (specialised, like ``makeLane``).
    let runClosedLoop: @Sendable (ClosedLoopRunContext) throws(ClosedLoopError) -> ClosedLoopCandidateResult

    /// Describes a candidate built by `make` for each run.
    public init<Candidate: BenchmarkCandidate>(
        identifier: String, displayName: String, summary: String, relativeCost: Double = 1,
        make: @escaping @Sendable (CandidateEnvironment) -> Candidate
    ) {
        self.identifier = identifier
        self.displayName = displayName
        self.summary = summary
        self.relativeCost = relativeCost
        // The closure is generic over the concrete type, so the lane it builds is specialised.
        self.makeLane = { context in LaneDriver(Lane(candidate: make(context.environment), context: context)) }
        if let fixed = Candidate.self as? any FixedDecisionCandidate.Type {
            self.fixedDecision = { environment in
                FixedDecision(admitsEveryCall: fixed.admitsEveryCall, reportedState: make(environment).reportedState)
            }
        } else {
            self.fixedDecision = nil
        }
        self.runClosedLoop = { context throws(ClosedLoopError) in try ClosedLoopSimulation.run(context, make: make) }
    }

    public var description: String { identifier }

    var reference: CandidateDescriptorReference {
        CandidateDescriptorReference(identifier: identifier, displayName: displayName)
    }

    public static func == (lhs: Self, rhs: Self) -> Bool { lhs.identifier == rhs.identifier }
    public func hash(into hasher: inout Hasher) { hasher.combine(identifier) }
}

extension CandidateDescriptor {
    /// Levee, driven through its state machine with explicit instants.
    public static let levee = CandidateDescriptor(
        identifier: "levee", displayName: "Levee",
        summary: "Levee's controller, configured by the SLO alone",
        relativeCost: 11.5
    ) { environment in
        LeveeCandidate(slo: environment.slo, slotCapacity: environment.slotCapacity)
    }

    /// The original's consecutive-count breaker tuned for peak traffic (2,000-5,000 RPS).
    public static let staticPeak = CandidateDescriptor(
        identifier: "static-peak", displayName: "Static-Peak",
        summary: "consecutive-count breaker: 7 failures open, 5 successes close, 30 s open, 3 probes"
    ) { _ in StaticBreaker(configuration: .peak) }

    /// The original's consecutive-count breaker tuned for business-as-usual traffic (100-800 RPS).
    public static let staticBAU = CandidateDescriptor(
        identifier: "static-bau", displayName: "Static-BAU",
        summary: "consecutive-count breaker: 5 failures open, 3 successes close, 10 s open, 1 probe"
    ) { _ in StaticBreaker(configuration: .bau) }

    /// Calibration: admits everything (LostBusiness is 0 by construction).
    public static let allowAll = CandidateDescriptor(
        identifier: "allow-all", displayName: "AllowAll",
        summary: "calibration: admits every call, always closed",
        relativeCost: 0
    ) { _ in AllowAll() }

    /// Calibration: rejects everything (BadTraffic is 0 by construction).
    public static let blockAll = CandidateDescriptor(
        identifier: "block-all", displayName: "BlockAll",
        summary: "calibration: rejects every call, always open",
        relativeCost: 0
    ) { _ in BlockAll() }

    /// Every candidate the harness knows, in the order tables list them before sorting.
    public static let builtIn: [CandidateDescriptor] = [
        .levee, .staticPeak, .staticBAU, .staticHindsight, .staticHindsightClosed,
        .semianClassic, .semianClassicDerived, .semianAdaptive,
        .sreThrottle, .envoyAdmission, .resilience4j,
        .gradient2, .vegas, .aimd, .staticLimiter, .semianAdaptiveUngated,
        .allowAll, .blockAll,
    ]

    /// The built-in candidate with this identifier (case-insensitive; display names work too).
    public static func named(_ name: String) -> CandidateDescriptor? {
        let wanted = name.lowercased()
        return builtIn.first { $0.identifier == wanted || $0.displayName.lowercased() == wanted }
    }

    /// Parses a comma-separated list of identifiers and `static(…)` specs, or `all`.
    ///
    /// A spec such as `static(threshold=5,window=10s,open=30s,probes=3)` names a
    /// ``StaticWindowBreaker`` configuration (commas inside the parentheses do not separate entries).
    /// - Throws: ``OpenLoopError/unknownCandidate(_:known:)`` naming the first unknown entry, or
    ///   ``OpenLoopError/invalidCandidateSpec(_:reason:)`` for a malformed spec.
    public static func parseList(_ list: String) throws(OpenLoopError) -> [CandidateDescriptor] {
        let names = try splitList(list).map { $0.trimmedOfBlanks() }.filter { !$0.isEmpty }
        if names.count == 1, names[0].lowercased() == "all" { return builtIn }
        guard !names.isEmpty else { throw .noCandidates }
        var result: [CandidateDescriptor] = []
        for name in names {
            let descriptor = try resolve(name)
            if !result.contains(descriptor) { result.append(descriptor) }
        }
        return result
    }

    /// A built-in name or a `static(…)` spec.
    public static func resolve(_ name: String) throws(OpenLoopError) -> CandidateDescriptor {
        if name.lowercased().hasPrefix("static(") {
            do {
                return .staticWindow(try StaticWindowBreaker.Configuration(spec: name))
            } catch {
                throw .invalidCandidateSpec(name, reason: error.description)
            }
        }
        guard let descriptor = named(name) else {
            throw .unknownCandidate(name, known: builtIn.map(\.identifier))
        }
        return descriptor
    }

    /// Splits at the commas outside parentheses.
    private static func splitList(_ list: String) throws(OpenLoopError) -> [Substring] {
        var parts: [Substring] = []
        var depth = 0
        var start = list.startIndex
        for index in list.indices {
            switch list[index] {
            case "(":
                depth += 1
            case ")":
                depth -= 1
                guard depth >= 0 else { throw .invalidCandidateSpec(list, reason: "unbalanced ')'") }
            case "," where depth == 0:
                parts.append(list[start..<index])
                start = list.index(after: index)
            default:
                break
            }
        }
        guard depth == 0 else { throw .invalidCandidateSpec(list, reason: "unbalanced '('") }
        parts.append(list[start...])
        return parts
    }
}

extension StringProtocol {
    /// Trims spaces and tabs from both ends (no Foundation).
    func trimmedOfBlanks() -> String {
        var slice = self[...]
        while let first = slice.first, first == " " || first == "\t" { slice = slice.dropFirst() }
        while let last = slice.last, last == " " || last == "\t" { slice = slice.dropLast() }
        return String(slice)
    }
}
