extension CandidateDescriptor {
    /// Google SRE client-side adaptive throttling: K = 2 over a trailing 2-minute window.
    public static let sreThrottle = CandidateDescriptor(
        identifier: "sre-throttle", displayName: "SRE-Throttle",
        summary: "Google SRE adaptive throttling: reject with max(0, (requests - 2 accepts)/(requests + 1)), 2 min window",
        relativeCost: 2.2
    ) { _ in SREAdaptiveThrottle(configuration: .standard) }

    /// Envoy admission control with the run's SLO success rate as the threshold.
    public static let envoyAdmission = CandidateDescriptor(
        identifier: "envoy-admission", displayName: "Envoy-Admission",
        summary: "Envoy admission control: success-rate threshold = SLO, aggression 1, cap 0.8, 30 s window",
        relativeCost: 2.6
    ) { environment in EnvoyAdmissionControl(slo: environment.slo) }

    /// A resilience4j-style breaker on a 60 s time-based sliding window, with resilience4j's defaults.
    public static let resilience4j = CandidateDescriptor(
        identifier: "resilience4j", displayName: "Resilience4j",
        summary: "resilience4j-style breaker: 50 % failures or 100 % slow (60 s) over 60 s, min 100 calls, 60 s open, 10 probes",
        relativeCost: 4.6
    ) { environment in SlidingWindowBreaker(configuration: .standard, slotCapacity: environment.slotCapacity) }
}
