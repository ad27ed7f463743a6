extension CandidateDescriptor {
    /// Semian's classic breaker with Shopify's published configuration (see
    /// ``SemianClassicBreaker/Configuration/shopify`` for where each value comes from).
    public static let semianClassic = CandidateDescriptor(
        identifier: "semian-classic", displayName: "Semian-Classic",
        summary: "Semian classic: 3 errors in 2 s open, 2 s open, unlimited half-open, 2 successes close, 0.25 s half-open timeout",
        relativeCost: 2.15
    ) { environment in
        SemianClassicBreaker(configuration: .shopify, slotCapacity: environment.slotCapacity)
    }

    /// Semian's classic breaker with thresholds derived from the healthy traffic (see
    /// ``SemianClassicBreaker/Configuration/derived``).
    public static let semianClassicDerived = CandidateDescriptor(
        identifier: "semian-classic-derived", displayName: "Semian-Classic-Derived",
        summary: "Semian classic sized from healthy errors: 300 errors in 1 s open, 30 s open, 2 successes close, 0.9 s half-open timeout",
        relativeCost: 1.8
    ) { environment in
        SemianClassicBreaker(configuration: .derived, slotCapacity: environment.slotCapacity)
    }

    /// Semian v0.28's adaptive PID breaker with its defaults.
    public static let semianAdaptive = CandidateDescriptor(
        identifier: "semian-adaptive", displayName: "Semian-Adaptive",
        summary: "Semian v0.28 adaptive breaker: PID on the error rate above a learned baseline, probabilistic rejection",
        relativeCost: 3.3
    ) { _ in SemianAdaptiveBreaker(configuration: .semian) }
}
