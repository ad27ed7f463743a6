extension CandidateDescriptor {
    /// Netflix's Gradient2 concurrency limit, with its defaults, behind a rejecting limiter.
    public static let gradient2 = CandidateDescriptor(
        identifier: "gradient2", displayName: "Gradient2",
        summary: "Netflix Gradient2 limit: limit·clamp(1.5·longRTT/RTT, 0.5, 1) + 4, smoothing 0.2, 20-200; failures as drops",
        relativeCost: 3.3
    ) { environment in
        ConcurrencyLimitCandidate(algorithm: Gradient2Limit(configuration: .netflix), failureReport: .dropped,
                                  slotCapacity: environment.slotCapacity)
    }

    /// Netflix's Vegas concurrency limit, with its defaults, behind a rejecting limiter.
    public static let vegas = CandidateDescriptor(
        identifier: "vegas", displayName: "Vegas",
        summary: "Netflix Vegas limit: queue = limit·(1 - minRTT/RTT), alpha 3·log10, beta 6·log10, 1-1000; failures as drops",
        relativeCost: 2.9
    ) { environment in
        ConcurrencyLimitCandidate(algorithm: VegasLimit(configuration: .netflix), failureReport: .dropped,
                                  slotCapacity: environment.slotCapacity)
    }

    /// Netflix's AIMD concurrency limit, with its defaults, behind a rejecting limiter.
    public static let aimd = CandidateDescriptor(
        identifier: "aimd", displayName: "AIMD",
        summary: "Netflix AIMD limit: +1 when busy, ×0.9 on a drop or an RTT over 5 s, 20-200; failures as drops",
        relativeCost: 4.6
    ) { environment in
        ConcurrencyLimitCandidate(algorithm: AIMDLimit(configuration: .netflix), failureReport: .dropped,
                                  slotCapacity: environment.slotCapacity)
    }

    /// The mesh benchmark's Static-Limiter sized for the closed-loop reference backend (see
    /// ``StaticLimiter/Configuration/referenceBackend`` for the derivation).
    public static let staticLimiter = CandidateDescriptor(
        identifier: "static-limiter", displayName: "Static-Limiter",
        summary: "token bucket 1,020/s (0.85 × 8 × 150 rps), burst 1 s, max 122 in flight (Little's law at 67.65 ms)",
        relativeCost: 2.7
    ) { environment in
        StaticLimiter(configuration: .referenceBackend, slotCapacity: environment.slotCapacity)
    }

    /// Semian's first adaptive design, with ungated pings (one a second) in the error function.
    public static let semianAdaptiveUngated = CandidateDescriptor(
        identifier: "semian-adaptive-ungated", displayName: "Semian-Adaptive-Ungated",
        summary: "Semian pid-take-1: P = (e - p90 15 min) - (r - ping failure rate), 1 ping/s admitted regardless, kp 1, ki 0.1, kd 0.01",
        relativeCost: 3.2
    ) { environment in
        SemianUngatedPingBreaker(configuration: .takeOne, slotCapacity: environment.slotCapacity)
    }
}
