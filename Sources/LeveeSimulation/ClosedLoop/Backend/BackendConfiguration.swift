/// Which of the closed-loop backend's improvements over the Go original are switched on.
///
/// Each switch is independent, so the effect of one improvement can be measured alone;
/// ``original`` turns all of them off (the Go model) and ``realistic`` turns all of them on.
public struct BackendModel: Sendable, Hashable, Codable {
    /// On: the phase's error rate is the backend's own (a failing dependency) and its latency
    /// profile is the backend's service time even in incident phases, so an incident is a cause
    /// (slow work fills the slots) rather than a scripted outcome. Off (original): incident phases
    /// (error rate above ``BackendConfiguration/incidentErrorRate``) borrow the latency profile of
    /// the next healthy phase, and errors come only from overload and the baseline rate.
    public var phaseDrivesHealth: Bool
    /// On: the autoscaler measures the time-averaged fraction of busy slots over each evaluation
    /// interval and scales as Kubernetes' HPA does (`ceil(replicas × utilisation / target)`).
    /// Off (original): it assumes every replica serves the nominal throughput and sizes the fleet
    /// from the smoothed admitted rate.
    public var autoscalerSeesBusySlots: Bool
    /// On: a request that finds the queue full fails after ``BackendConfiguration/fastRejectLatency``
    /// (a 503). Off (original): it fails at submission + ``BackendConfiguration/timeout``.
    public var fastRejectWhenQueueFull: Bool
    /// On: the load-driven latency multiplier also lengthens the time a request holds its worker
    /// slot, so overload feeds on itself (congestion collapse). Off (original): the slot is held
    /// for the nominal service time only and the multiplier inflates the reported latency alone.
    public var degradationSlowsWorkers: Bool
    /// On: every per-request draw is ``CommonRandom`` of (seed, request id, purpose), so a request
    /// gets the same service time and error draws whichever candidate admits it. Off (original):
    /// one sequential PCG stream, drawn only for requests that reach a worker.
    public var commonRandomNumbers: Bool

    public init(
        phaseDrivesHealth: Bool, autoscalerSeesBusySlots: Bool, fastRejectWhenQueueFull: Bool,
        degradationSlowsWorkers: Bool, commonRandomNumbers: Bool
    ) {
        self.phaseDrivesHealth = phaseDrivesHealth
        self.autoscalerSeesBusySlots = autoscalerSeesBusySlots
        self.fastRejectWhenQueueFull = fastRejectWhenQueueFull
        self.degradationSlowsWorkers = degradationSlowsWorkers
        self.commonRandomNumbers = commonRandomNumbers
    }

    /// The Go original's model: every improvement off.
    public static let original = BackendModel(
        phaseDrivesHealth: false, autoscalerSeesBusySlots: false, fastRejectWhenQueueFull: false,
        degradationSlowsWorkers: false, commonRandomNumbers: false)

    /// Every improvement on.
    public static let realistic = BackendModel(
        phaseDrivesHealth: true, autoscalerSeesBusySlots: true, fastRejectWhenQueueFull: true,
        degradationSlowsWorkers: true, commonRandomNumbers: true)
}

/// How the backend degrades with its smoothed load: a latency multiplier and an extra error
/// probability, each linear between breakpoints and flat outside them.
public struct DegradationCurve: Sendable, Hashable, Codable {
    /// One breakpoint of the curve.
    public struct Point: Sendable, Hashable, Codable {
        /// The smoothed load ((busy + queued) / slots) at which the values apply.
        public var load: Double
        /// The factor on the service time, at least 1.
        public var latencyMultiplier: Double
        /// The probability, in [0, 1], that an otherwise successful request fails from overload.
        public var errorProbability: Double

        public init(load: Double, latencyMultiplier: Double, errorProbability: Double) {
            self.load = load
            self.latencyMultiplier = latencyMultiplier
            self.errorProbability = errorProbability
        }
    }

    /// Breakpoints in strictly increasing load order (at least one).
    public var points: [Point]

    public init(points: [Point]) {
        self.points = points
    }

    /// The Go original's curve: the latency multiplier is 1 up to load 0.8, then 1.5 at 1.0,
    /// 3 at 1.5 and 10 at 2.5; the extra error probability is 0 up to load 1.0, then 0.10 at
    /// 1.5 and 0.40 at 2.5; both are flat beyond 2.5.
    public static let original = DegradationCurve(points: [
        Point(load: 0.8, latencyMultiplier: 1.0, errorProbability: 0),
        Point(load: 1.0, latencyMultiplier: 1.5, errorProbability: 0),
        Point(load: 1.5, latencyMultiplier: 3.0, errorProbability: 0.10),
        Point(load: 2.5, latencyMultiplier: 10.0, errorProbability: 0.40),
    ])

    /// Latency multiplier and extra error probability at `load`.
    @inline(__always)
    public func values(atLoad load: Double) -> (latencyMultiplier: Double, errorProbability: Double) {
        let first = points[0]
        if load <= first.load { return (first.latencyMultiplier, first.errorProbability) }
        var lower = first
        for index in 1..<points.count {
            let upper = points[index]
            if load <= upper.load {
                let fraction = (load - lower.load) / (upper.load - lower.load)
                return (
                    lower.latencyMultiplier + fraction * (upper.latencyMultiplier - lower.latencyMultiplier),
                    lower.errorProbability + fraction * (upper.errorProbability - lower.errorProbability))
            }
            lower = upper
        }
        return (lower.latencyMultiplier, lower.errorProbability)
    }

    /// Why the curve is unusable, or `nil`.
    func validationError() -> BackendConfigurationError? {
        guard !points.isEmpty else {
            return BackendConfigurationError(field: "degradation", message: "the curve needs at least one breakpoint")
        }
        for (index, point) in points.enumerated() {
            let field = "degradation.points[\(index)]"
            guard point.load.isFinite, point.load >= 0 else {
                return BackendConfigurationError(field: field, message: "load must be finite and not negative, found \(point.load)")
            }
            guard point.latencyMultiplier.isFinite, point.latencyMultiplier >= 1 else {
                return BackendConfigurationError(
                    field: field, message: "the latency multiplier must be finite and at least 1, found \(point.latencyMultiplier)")
            }
            guard point.errorProbability.isFinite, point.errorProbability >= 0, point.errorProbability <= 1 else {
                return BackendConfigurationError(
                    field: field, message: "the error probability must be between 0 and 1, found \(point.errorProbability)")
            }
            if index > 0, point.load <= points[index - 1].load {
                return BackendConfigurationError(
                    field: field, message: "breakpoint loads must strictly increase (\(points[index - 1].load) then \(point.load))")
            }
        }
        return nil
    }
}

/// Why a ``BackendConfiguration`` was rejected: the field and what is wrong with it.
public struct BackendConfigurationError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The property of ``BackendConfiguration`` at fault, e.g. `"maximumReplicas"`.
    public var field: String
    public var message: String

    public init(field: String, message: String) {
        self.field = field
        self.message = message
    }

    public var description: String { "backend \(field): \(message)" }
}

/// Every constant of the closed-loop backend, defaulted to the Go original's reference values.
///
/// Times are nanoseconds of simulated time. ``original`` is the Go model (every improvement of
/// ``BackendModel`` off); ``realistic``, the default, has every improvement on, the same
/// constants, and ``keepReplicasAcrossCrash``.
public struct BackendConfiguration: Sendable, Hashable, Codable {
    /// The throughput the original's autoscaler assumes per replica, and the rate that sizes the
    /// worker slots by Little's law (150 requests per second).
    public var nominalReplicaThroughput: Double
    /// Waiting room per ready replica; the queue holds at most this × replicas requests (50).
    public var queueDepthPerReplica: Int
    /// Fleet bounds and starting size (1, 8, 1).
    public var minimumReplicas: Int
    public var maximumReplicas: Int
    public var initialReplicas: Int
    /// Worker slots per replica; `nil` sizes them by Little's law as the original does:
    /// `ceil(nominal throughput × mean service time of phase 0)`, 11 for Cyber Monday.
    public var slotsPerReplica: Int?
    /// The autoscaler's target utilisation (0.70).
    public var targetUtilisation: Double
    /// With ``BackendModel/autoscalerSeesBusySlots``, also count queued requests as demand
    /// (scaling on in-flight work, as an HPA on a concurrency metric does), so the autoscaler sees
    /// how far demand exceeds capacity instead of at most 100 % busy. Off by default.
    public var autoscalerCountsQueuedWork: Bool
    /// Time between autoscaler evaluations (15 s).
    public var evaluationInterval: Int64
    /// Time from a scale-up decision until the new replicas serve (30 s); a decision for more
    /// replicas while some are pending restarts the wait, and all pending replicas arrive together.
    public var provisioningLag: Int64
    /// No scale-down within this long after a scale-up decision (600 s).
    public var scaleDownQuietPeriod: Int64
    /// Scale-down also needs every utilisation sample of this window below 0.9 × target (300 s).
    public var scaleDownObservationWindow: Int64
    /// Weight of the newest per-second admitted rate in the original autoscaler's demand EWMA,
    /// recomputed whenever at least a second has accumulated (0.3).
    public var demandSmoothing: Double
    /// Half-life of the time-weighted EWMA of load that drives degradation and crashes (5 s).
    public var loadHalfLife: Int64
    /// Latency multiplier and extra error probability against the smoothed load.
    public var degradation: DegradationCurve
    /// The backend crashes when its smoothed load stays at or above ``crashLoad`` (3.0) for
    /// ``crashSustain`` (30 s), and stays down for ``downtime`` (300 s).
    public var crashLoad: Double
    public var crashSustain: Int64
    public var downtime: Int64
    /// After a crash the fleet restarts at ``minimumReplicas`` (false, the original: the pods are
    /// gone) or at the size it had, or had been told to reach, when it crashed (true: a Kubernetes
    /// Deployment keeps its replica count, including a scale-up in progress, and restarts the pods).
    public var keepReplicasAcrossCrash: Bool
    /// The original's background error probability (0.005), used when the phase does not drive
    /// the backend's health.
    public var baselineErrorRate: Double
    /// Multiply the baseline rate by the Cyber Monday degradation factor d(hour), with the hour
    /// taken from the phase's nominal start (scenario second 0 = Sunday 20:00), as the original does.
    public var baselineErrorFollowsHour: Bool
    /// A phase whose error rate is above this is an incident (0.10); without
    /// ``BackendModel/phaseDrivesHealth`` it borrows the next healthy phase's latency profile.
    public var incidentErrorRate: Double
    /// Shed, queue-timed-out and crash failures complete at submission + this (1.5 s), and a
    /// request whose queue wait plus service time reaches it is dropped.
    public var timeout: Int64
    /// How long a fast rejection takes when ``BackendModel/fastRejectWhenQueueFull`` is on (1 ms).
    public var fastRejectLatency: Int64
    /// Which improvements are on.
    public var model: BackendModel

    public init(
        nominalReplicaThroughput: Double = 150,
        queueDepthPerReplica: Int = 50,
        minimumReplicas: Int = 1,
        maximumReplicas: Int = 8,
        initialReplicas: Int = 1,
        slotsPerReplica: Int? = nil,
        targetUtilisation: Double = 0.70,
        autoscalerCountsQueuedWork: Bool = false,
        evaluationInterval: Int64 = 15 * nanosecondsPerSecond,
        provisioningLag: Int64 = 30 * nanosecondsPerSecond,
        scaleDownQuietPeriod: Int64 = 600 * nanosecondsPerSecond,
        scaleDownObservationWindow: Int64 = 300 * nanosecondsPerSecond,
        demandSmoothing: Double = 0.3,
        loadHalfLife: Int64 = 5 * nanosecondsPerSecond,
        degradation: DegradationCurve = .original,
        crashLoad: Double = 3.0,
        crashSustain: Int64 = 30 * nanosecondsPerSecond,
        downtime: Int64 = 300 * nanosecondsPerSecond,
        keepReplicasAcrossCrash: Bool = false,
        baselineErrorRate: Double = 0.005,
        baselineErrorFollowsHour: Bool = true,
        incidentErrorRate: Double = 0.10,
        timeout: Int64 = 1_500_000_000,
        fastRejectLatency: Int64 = 1_000_000,
        model: BackendModel = .realistic
    ) {
        self.nominalReplicaThroughput = nominalReplicaThroughput
        self.queueDepthPerReplica = queueDepthPerReplica
        self.minimumReplicas = minimumReplicas
        self.maximumReplicas = maximumReplicas
        self.initialReplicas = initialReplicas
        self.slotsPerReplica = slotsPerReplica
        self.targetUtilisation = targetUtilisation
        self.autoscalerCountsQueuedWork = autoscalerCountsQueuedWork
        self.evaluationInterval = evaluationInterval
        self.provisioningLag = provisioningLag
        self.scaleDownQuietPeriod = scaleDownQuietPeriod
        self.scaleDownObservationWindow = scaleDownObservationWindow
        self.demandSmoothing = demandSmoothing
        self.loadHalfLife = loadHalfLife
        self.degradation = degradation
        self.crashLoad = crashLoad
        self.crashSustain = crashSustain
        self.downtime = downtime
        self.keepReplicasAcrossCrash = keepReplicasAcrossCrash
        self.baselineErrorRate = baselineErrorRate
        self.baselineErrorFollowsHour = baselineErrorFollowsHour
        self.incidentErrorRate = incidentErrorRate
        self.timeout = timeout
        self.fastRejectLatency = fastRejectLatency
        self.model = model
    }

    /// One second of simulated time.
    public static let nanosecondsPerSecond: Int64 = 1_000_000_000

    /// The Go model exactly: reference constants, every improvement off.
    public static let original = BackendConfiguration(model: .original)

    /// The default: reference constants, every improvement on, and the fleet keeps its size
    /// across a crash. (With the busy-slot autoscaler, restarting at one replica is a trap: the
    /// overload that follows crashes it again before an evaluation interval plus the provisioning
    /// lag can add capacity, so an unprotected backend would stay down most of the day.)
    public static let realistic = BackendConfiguration(keepReplicasAcrossCrash: true, model: .realistic)

    /// Upper bound on the worker slots plus queue places of a full fleet; keeps preallocation sane.
    public static let maximumCapacity = 10_000_000

    /// This configuration, or the first problem found.
    ///
    /// - Throws: ``BackendConfigurationError`` naming the field when a number is NaN, infinite,
    ///   negative or out of range, when the replica bounds are inconsistent, or when the
    ///   degradation curve is malformed.
    public func validated() throws(BackendConfigurationError) -> BackendConfiguration {
        func fail(_ field: String, _ message: String) -> BackendConfigurationError {
            BackendConfigurationError(field: field, message: message)
        }
        guard nominalReplicaThroughput.isFinite, nominalReplicaThroughput > 0 else {
            throw fail("nominalReplicaThroughput", "must be a positive finite rate, found \(nominalReplicaThroughput)")
        }
        guard queueDepthPerReplica >= 0 else {
            throw fail("queueDepthPerReplica", "must not be negative, found \(queueDepthPerReplica)")
        }
        guard minimumReplicas >= 1 else {
            throw fail("minimumReplicas", "must be at least 1, found \(minimumReplicas)")
        }
        guard maximumReplicas >= minimumReplicas else {
            throw fail("maximumReplicas", "(\(maximumReplicas)) must not be below minimumReplicas (\(minimumReplicas))")
        }
        guard initialReplicas >= minimumReplicas, initialReplicas <= maximumReplicas else {
            throw fail(
                "initialReplicas", "(\(initialReplicas)) must be between minimumReplicas (\(minimumReplicas)) and maximumReplicas (\(maximumReplicas))")
        }
        if let slots = slotsPerReplica, slots < 1 {
            throw fail("slotsPerReplica", "must be at least 1 when given, found \(slots)")
        }
        let perReplica = (slotsPerReplica ?? 0) + queueDepthPerReplica
        guard perReplica <= Self.maximumCapacity / maximumReplicas else {
            throw fail("maximumReplicas", "a full fleet would exceed \(Self.maximumCapacity) slots and queue places")
        }
        guard targetUtilisation.isFinite, targetUtilisation > 0, targetUtilisation <= 1 else {
            throw fail("targetUtilisation", "must be in (0, 1], found \(targetUtilisation)")
        }
        guard evaluationInterval > 0 else {
            throw fail("evaluationInterval", "must be positive, found \(evaluationInterval) ns")
        }
        for (field, value) in [
            ("provisioningLag", provisioningLag), ("scaleDownQuietPeriod", scaleDownQuietPeriod),
            ("scaleDownObservationWindow", scaleDownObservationWindow), ("crashSustain", crashSustain),
            ("downtime", downtime), ("fastRejectLatency", fastRejectLatency),
        ] where value < 0 {
            throw fail(field, "must not be negative, found \(value) ns")
        }
        guard demandSmoothing.isFinite, demandSmoothing > 0, demandSmoothing <= 1 else {
            throw fail("demandSmoothing", "must be in (0, 1], found \(demandSmoothing)")
        }
        guard loadHalfLife > 0 else {
            throw fail("loadHalfLife", "must be positive, found \(loadHalfLife) ns")
        }
        if let error = degradation.validationError() { throw error }
        guard crashLoad.isFinite, crashLoad > 0 else {
            throw fail("crashLoad", "must be a positive finite load, found \(crashLoad) (use a large value to rule crashes out)")
        }
        guard baselineErrorRate.isFinite, baselineErrorRate >= 0, baselineErrorRate <= 1 else {
            throw fail("baselineErrorRate", "must be between 0 and 1, found \(baselineErrorRate)")
        }
        guard incidentErrorRate.isFinite, incidentErrorRate >= 0, incidentErrorRate <= 1 else {
            throw fail("incidentErrorRate", "must be between 0 and 1, found \(incidentErrorRate)")
        }
        guard timeout > 0 else {
            throw fail("timeout", "must be positive, found \(timeout) ns")
        }
        return self
    }
}
