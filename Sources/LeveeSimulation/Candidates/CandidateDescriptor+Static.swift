/// Why a candidate spec such as `static(threshold=5,window=10s,open=30s,probes=3)` was refused.
public enum CandidateSpecError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The text is not `static(key=value,…)`.
    case malformed(String)
    case unknownParameter(String)
    case duplicateParameter(String)
    case missingParameter(String)
    case invalidValue(parameter: String, String)

    public var description: String {
        switch self {
        case .malformed(let problem): problem
        case .unknownParameter(let name):
            "unknown parameter '\(name)' (expected \(StaticWindowBreaker.Configuration.specParameters.joined(separator: ", ")))"
        case .duplicateParameter(let name): "parameter '\(name)' is given twice"
        case .missingParameter(let name): "parameter '\(name)' is missing"
        case .invalidValue(let parameter, let problem): "\(parameter) \(problem)"
        }
    }
}

extension StaticWindowBreaker.Configuration {
    /// The keys of a `static(…)` spec, all required.
    public static let specParameters = ["threshold", "window", "open", "probes"]

    /// The spec syntax, for help texts and error messages.
    public static let specSyntax = "static(threshold=N,window=DURATION,open=DURATION,probes=N)"

    /// Reads a spec such as `static(threshold=5,window=10s,open=30s,probes=3)`: every key once,
    /// in any order; durations take `ms`, `s` (default) or `m`.
    /// - Throws: ``CandidateSpecError`` saying what is wrong.
    public init(spec text: String) throws(CandidateSpecError) {
        let trimmed = text.trimmedOfBlanks()
        let lowered = trimmed.lowercased()
        guard lowered.hasPrefix("static("), lowered.hasSuffix(")") else {
            throw .malformed("'\(trimmed)' is not of the form \(Self.specSyntax)")
        }
        let body = trimmed.dropFirst("static(".count).dropLast()
        var values: [String: Substring] = [:]
        for item in body.split(separator: ",", omittingEmptySubsequences: false) {
            let parts = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2 else {
                throw .malformed("'\(item.trimmedOfBlanks())' in '\(trimmed)' is not key=value; expected \(Self.specSyntax)")
            }
            let key = parts[0].trimmedOfBlanks().lowercased()
            guard Self.specParameters.contains(key) else { throw .unknownParameter(key) }
            guard values[key] == nil else { throw .duplicateParameter(key) }
            values[key] = parts[1]
        }
        func value(_ key: String) throws(CandidateSpecError) -> Substring {
            guard let value = values[key] else { throw .missingParameter(key) }
            return value
        }
        func count(_ key: String) throws(CandidateSpecError) -> Int {
            let text = try value(key)
            guard let number = Int(text.trimmedOfBlanks()) else {
                throw .invalidValue(parameter: key, "must be a whole number, got '\(text.trimmedOfBlanks())'")
            }
            return number
        }
        func duration(_ key: String) throws(CandidateSpecError) -> Int64 {
            let text = try value(key)
            guard let nanoseconds = DurationText.parse(text) else {
                throw .invalidValue(parameter: key, "must be a positive duration such as 250ms, 10s or 2m, got '\(text.trimmedOfBlanks())'")
            }
            return nanoseconds
        }
        try self.init(threshold: count("threshold"), windowNanoseconds: duration("window"),
                      openNanoseconds: duration("open"), probes: count("probes"))
    }
}

extension CandidateDescriptor {
    /// A ``StaticWindowBreaker`` with this configuration, identified by its spec (so two
    /// descriptors of the same configuration are the same candidate).
    public static func staticWindow(_ configuration: StaticWindowBreaker.Configuration) -> CandidateDescriptor {
        staticWindow(configuration, identifier: configuration.spec, displayName: configuration.displayName)
    }

    static func staticWindow(
        _ configuration: StaticWindowBreaker.Configuration, identifier: String, displayName: String
    ) -> CandidateDescriptor {
        CandidateDescriptor(
            identifier: identifier, displayName: displayName,
            summary: "static breaker: \(configuration.threshold) failures in \(DurationText.format(configuration.windowNanoseconds)) open, "
                + "\(DurationText.format(configuration.openNanoseconds)) open, \(configuration.probes) probe(s) close",
            relativeCost: 1.7
        ) { environment in
            StaticWindowBreaker(configuration: configuration, slotCapacity: environment.slotCapacity)
        }
    }
}

extension CandidateDescriptor {
    /// The best static breaker in hindsight for Cyber Monday at SLO 0.90:
    /// `static(threshold=900,window=1732ms,open=3s,probes=24)`, mean TotalPenalty 8,709 on its
    /// training seeds.
    ///
    /// Produced by `levee tune` on training seeds 1, 2, 3 with the Go-compatible generator, which
    /// are disjoint from the evaluation seeds of the published tables (20241225 to 20241229), in
    /// three runs because the best lay on the edge of the grid twice (docs/baselines.md):
    /// 1. `levee tune --training-seeds 1,2,3 --per-pass 160` (default grid, one refinement round:
    ///    240 configurations; best `static(threshold=520,window=1732ms,open=5477ms,probes=11)`);
    /// 2. `levee tune --training-seeds 1,2,3 --thresholds 300,520,900,1560 --windows 1s,1732ms,3s
    ///    --opens 3s,5477ms,10s --probes 5,11,24 --refine 0 --per-pass 160` (108 configurations);
    /// 3. `levee tune --training-seeds 1,2,3 --thresholds 520,900,1560 --windows 1732ms,3s
    ///    --opens 1732ms,3s --probes 24,50,100,200 --refine 0 --per-pass 160` (48 configurations),
    ///    which confirmed this configuration with every parameter inside its list.
    public static let staticHindsight = staticWindow(
        try! StaticWindowBreaker.Configuration(
            threshold: 900, windowNanoseconds: 1_732_000_000, openNanoseconds: 3_000_000_000, probes: 24),
        identifier: "static-hindsight", displayName: "Static-Hindsight")
}

extension CandidateDescriptor {
    /// The best static breaker in hindsight for the closed loop on Cyber Monday at SLO 0.90:
    /// `static(threshold=13,window=1225ms,open=1s,probes=2)`, mean Delta 58,700 with no crash on
    /// its training seed.
    ///
    /// Produced by `levee tune --closed-loop --output best.json --top 20` with its defaults
    /// (realistic backend, back-off clients with a 10 % retry budget, training seed 1, disjoint
    /// from the evaluation seeds 20241225 to 20241229): the 48-configuration closed-loop grid and
    /// two refinement rounds moving one parameter at a time, 64 configurations in all. On the
    /// evaluation seeds (`levee bench --closed-loop --seeds 5 --candidates
    /// 'levee,semian-adaptive,static(threshold=13,window=1225ms,open=1s,probes=2)'`) it scores
    /// 58,454 ± 925 with no crash, level with Semian-Adaptive (docs/baselines.md).
    /// Tuned for the default closed loop only; under other models or client policies, tune again.
    public static let staticHindsightClosed = staticWindow(
        try! StaticWindowBreaker.Configuration(
            threshold: 13, windowNanoseconds: 1_225_000_000, openNanoseconds: 1_000_000_000, probes: 2),
        identifier: "static-hindsight-closed", displayName: "Static-Hindsight-Closed")
}
