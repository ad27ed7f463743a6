#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The closed-loop benchmark's backend: an autoscaled fleet of replicas, each with worker slots
/// and a bounded FIFO queue, that degrades and finally crashes under sustained overload.
///
/// It is the Go original's model (levee-bench §6.1) with every constant in
/// ``BackendConfiguration`` and each improvement switchable in ``BackendModel``. Time is integer
/// nanoseconds of simulated time from the scenario start, driven by the caller:
///
/// - ``advance(to:)`` moves the clocks (phase, smoothed load, autoscaler, crash and restart);
/// - ``submit(_:at:)`` decides a request's fate at once, as the original does: it takes the
///   earliest-free worker slot (waiting in the queue if none is free), draws its service time
///   from the current phase and its errors, and schedules its completion;
/// - ``nextCompletionTime`` and ``popCompletion()`` deliver completions in time order
///   (ties in submission order).
///
/// Assigning each request to the earliest-free slot in submission order is the original's
/// replay of the queue over the slot heap, in O(log slots) per request. Containers are
/// preallocated for a full fleet, so the hot path does not allocate once warm.
///
/// Where ``BackendConfiguration/original`` still differs from the Go code, on purpose:
/// - a queued request starts the instant its slot frees (Go starts it at the next submission
///   that drains the queue, so slots idle between arrivals while the reported latency assumes not);
/// - the smoothed load, the demand estimate and crash detection move on at every
///   ``advance(to:)`` (Go updates them only on submissions, so blocked traffic freezes them);
/// - evaluations run on a fixed 15 s grid instead of at the first submission 15 s after the last;
/// - ``BackendStatistics/crashes`` counts crashes (Go's table counts recoveries) and a crash moves
///   flipped successes out of the success count (Go forgot to);
/// - draws come from Go's PCG, seeded and ordered as Go draws them (a service time for every
///   submission to a live backend, then errors only when they can still happen), but bit-identical
///   results with Go are not a goal.
public struct Backend: Sendable {
    public let configuration: BackendConfiguration
    public let seed: UInt64
    /// Worker slots per replica (Little's law on phase 0 unless configured).
    public let slotsPerReplica: Int

    struct UtilisationSample: Sendable {
        var at: Int64
        var utilisation: Double
    }

    /// What a phase means to the backend, precomputed.
    struct PhaseProfile: Sendable {
        /// The service-time distribution (the phase's own, or a healthy phase's it borrows).
        var latency: LatencyDistribution
        /// Probability of the backend's own error, and how it is labelled.
        var healthErrorRate: Double
        var healthCause: BackendOutcomeCause
    }

    private let phaseStarts: ContiguousArray<Int64>
    private let phaseProfiles: ContiguousArray<PhaseProfile>
    private var phaseCursor = 0

    // Constants derived from the configuration.
    private let loadDecayPerNanosecond: Double
    private let crnOn: Bool
    private let workersSlowDown: Bool
    private let fastReject: Bool
    private let autoscalerCountsQueue: Bool

    /// The latest instant the backend has been advanced to.
    public private(set) var now: Int64 = 0

    // Fleet and autoscaler.
    /// Ready replicas.
    public private(set) var replicas: Int
    /// Replicas decided but not ready yet (`nil` when none are pending).
    public private(set) var pendingReplicas: Int?
    private var readyAt: Int64 = .max
    private var lastScaleUpAt: Int64?
    /// Autoscaler utilisation samples of the scale-down observation window, oldest first.
    private var utilisationSamples: GrowingRing<UtilisationSample>
    private var nextEvaluationAt: Int64
    /// Busy-slot (or, with ``BackendConfiguration/autoscalerCountsQueuedWork``, busy-and-queued)
    /// time and slot time since the last evaluation, for the busy-slot autoscaler.
    private var busyArea: Int64 = 0
    private var capacityArea: Int64 = 0
    private var utilisationWindowStart: Int64 = 0
    private var admittedInWindow = 0
    private var demandWindowStart: Int64 = 0
    /// The original autoscaler's smoothed admitted rate, in requests per second.
    public private(set) var demandRate: Double = 0
    /// The latest autoscaler utilisation sample.
    public private(set) var lastUtilisation: Double = 0

    // Workers.
    /// When each slot of the ready fleet becomes free (one entry per slot).
    private var slotFreeAt: InstantHeap
    /// When each request holding or waiting for a slot releases it.
    private var occupancyEnds: InstantHeap
    /// Service start of each queued request, in (non-decreasing) submission order.
    private var queuedStarts: GrowingRing<Int64>

    // Load and crashes.
    /// The time-weighted EWMA of (busy + queued) / slots that drives degradation and crashes.
    public private(set) var load: Double = 0
    private var overloadedSince: Int64?
    public private(set) var isCrashed = false
    private var crashedAt: Int64 = 0
    private var restartAt: Int64 = .max
    private var replicasAfterRestart = 0

    // Completions.
    /// Requests that reached a worker and finish at their own response time.
    private var served: CompletionHeap
    /// Failures at submission + timeout: in submission order, so their completions are sorted.
    private var timedOut: GrowingRing<PendingCompletion>
    /// Fast rejections at submission + the fast-reject latency: sorted for the same reason.
    private var rejectedFast: GrowingRing<PendingCompletion>
    private var sequence: UInt64 = 0

    /// The original's sequential stream (used when common random numbers are off).
    private var sequential: GoPCG
    private var counters = BackendStatistics()

    /// - Throws: ``BackendConfigurationError`` when the configuration is invalid or a full fleet
    ///   of Little's-law-sized replicas would be unreasonably large.
    public init(configuration: BackendConfiguration, scenario: Scenario, seed: UInt64) throws(BackendConfigurationError) {
        let configuration = try configuration.validated()
        self.configuration = configuration
        self.seed = seed
        let phases = scenario.phases
        let model = configuration.model

        // Profile each phase; without phaseDrivesHealth an incident borrows a healthy profile.
        var healthySource = Array(phases.indices)
        for index in phases.indices where phases[index].errorRate > configuration.incidentErrorRate {
            let later = phases.indices[(index + 1)...].first { phases[$0].errorRate <= configuration.incidentErrorRate }
            let earlier = phases.indices[..<index].last { phases[$0].errorRate <= configuration.incidentErrorRate }
            healthySource[index] = later ?? earlier ?? index
        }
        var profiles = ContiguousArray<PhaseProfile>()
        profiles.reserveCapacity(phases.count)
        for (index, phase) in phases.enumerated() {
            if model.phaseDrivesHealth {
                profiles.append(PhaseProfile(latency: phase.latency, healthErrorRate: phase.errorRate, healthCause: .dependencyError))
            } else {
                let hourFactor = configuration.baselineErrorFollowsHour
                    ? Self.cyberMondayDegradation(atScenarioNanoseconds: scenario.phaseStartNanoseconds[index]) : 1
                profiles.append(PhaseProfile(
                    latency: phases[healthySource[index]].latency,
                    healthErrorRate: min(1, configuration.baselineErrorRate * hourFactor), healthCause: .baselineError))
            }
        }
        phaseProfiles = profiles
        phaseStarts = ContiguousArray(scenario.phaseStartNanoseconds)

        // Little's law on the healthy profile of phase 0: slots = ceil(throughput × mean service time).
        let sizingMean = phases[healthySource[0]].meanLatencyMilliseconds / 1000
        let littlesLaw = (configuration.nominalReplicaThroughput * sizingMean).rounded(.up)
        let perReplica = configuration.slotsPerReplica ?? Int(min(max(littlesLaw, 1), 1e9))
        guard perReplica + configuration.queueDepthPerReplica
            <= BackendConfiguration.maximumCapacity / configuration.maximumReplicas
        else {
            throw BackendConfigurationError(
                field: "slotsPerReplica",
                message: "\(perReplica) slots per replica (Little's law) × \(configuration.maximumReplicas) replicas is too large")
        }
        slotsPerReplica = perReplica

        loadDecayPerNanosecond = log(2.0) / Double(configuration.loadHalfLife)
        crnOn = model.commonRandomNumbers
        workersSlowDown = model.degradationSlowsWorkers
        fastReject = model.fastRejectWhenQueueFull
        autoscalerCountsQueue = configuration.autoscalerCountsQueuedWork

        replicas = configuration.initialReplicas
        nextEvaluationAt = configuration.evaluationInterval
        let fullFleetSlots = perReplica * configuration.maximumReplicas
        let fullFleetQueue = configuration.queueDepthPerReplica * configuration.maximumReplicas
        slotFreeAt = InstantHeap(capacity: fullFleetSlots)
        occupancyEnds = InstantHeap(capacity: fullFleetSlots + fullFleetQueue)
        queuedStarts = GrowingRing(capacity: fullFleetQueue, filler: 0)
        served = CompletionHeap(capacity: 2 * (fullFleetSlots + fullFleetQueue))
        timedOut = GrowingRing(capacity: 4096, filler: Self.emptyCompletion)
        rejectedFast = GrowingRing(capacity: 1024, filler: Self.emptyCompletion)
        sequential = GoPCG(goLoadgenSeed: seed)
        let samplesPerWindow = configuration.scaleDownObservationWindow / configuration.evaluationInterval + 2
        utilisationSamples = GrowingRing(
            capacity: Int(min(samplesPerWindow, 4096)), filler: UtilisationSample(at: 0, utilisation: 0))
        for _ in 0..<(replicas * perReplica) { slotFreeAt.insert(0) }
        counters.peakReplicas = replicas
    }

    private static let emptyCompletion = PendingCompletion(
        completedAt: 0, sequence: 0, id: 0, submittedAt: 0, serviceStart: 0, busy: 0, tag: 0, cause: .success)

    /// The original's Cyber Monday degradation factor d(hour), with hour = the Monday hour of the
    /// instant (scenario second 0 is Sunday 20:00), clamped to 0...23.
    static func cyberMondayDegradation(atScenarioNanoseconds instant: Int64) -> Double {
        let hour = min(23, max(0, Int(instant / 3_600_000_000_000) - 4))
        switch hour {
        case ..<10: return 1
        case ..<18: return 1 + 0.5 * Double(hour - 10) / 8
        default: return 1.5 + 1.5 * Double(hour - 18) / 5
        }
    }

    // MARK: - Observation

    /// Counters so far (downtime includes an ongoing outage up to ``now``).
    public var statistics: BackendStatistics {
        var result = counters
        if isCrashed { result.downtimeNanoseconds += now - crashedAt }
        return result
    }

    /// Worker slots of the ready fleet.
    public var totalSlots: Int { slotFreeAt.count }
    /// Requests waiting for a slot at ``now``.
    public var queued: Int { queuedStarts.count }
    /// Requests holding a slot at ``now``.
    public var busySlots: Int { occupancyEnds.count - queuedStarts.count }
    /// Index of the scenario phase containing ``now`` (the last one past the end).
    public var phaseIndex: Int { phaseCursor }

    /// The earliest pending completion instant, `Int64.max` when none is pending.
    ///
    /// Stored rather than computed: the caller reads it on every event, and a computed property
    /// of a struct this size would be called on a copy of it.
    public private(set) var nextCompletionTime: Int64 = .max

    /// Completions not delivered yet.
    public private(set) var pendingCompletions = 0

    // MARK: - Driving

    /// Advances every clock to `instant`: completed work leaves the slots, the phase, smoothed
    /// load and demand move on, and autoscaler evaluations, replica arrivals, crashes and restarts
    /// due by then happen at their own instants. Earlier instants than ``now`` are ignored.
    public mutating func advance(to instant: Int64) {
        guard instant > now else { return }
        while true {
            var next = min(nextEvaluationAt, min(readyAt, restartAt))
            if !isCrashed, let since = overloadedSince {
                next = min(next, Self.saturatingSum(since, configuration.crashSustain))
            }
            guard next <= instant else { break }
            if next == nextEvaluationAt, isIdleAtMinimum {
                skipIdleEvaluations(before: instant)
                next = min(nextEvaluationAt, min(readyAt, restartAt))
            }
            step(to: next)
            handleScheduledEvents()
        }
        step(to: instant)
    }

    /// Submits a request at `instant` (not before ``now``; earlier instants count as ``now``) and
    /// decides its outcome; the completion becomes available at its completion instant.
    public mutating func submit(_ request: BackendRequest, at instant: Int64) {
        advance(to: instant)
        let t = now
        sequence &+= 1
        counters.requests += 1
        var entry = PendingCompletion(
            completedAt: 0, sequence: sequence, id: request.id, submittedAt: t, serviceStart: t, busy: 0,
            tag: request.tag, cause: .success)

        if isCrashed {
            fail(&entry, .crashed, after: configuration.timeout)
            return
        }
        // The original's demand signal counts what reaches a live backend.
        admittedInWindow += 1
        // Drawn before the queue check, as the original draws it for shed requests too.
        let profile = phaseProfiles[phaseCursor]
        let nominal = profile.latency.quantile(draw(request.id, .backendLatency)) * 1e6
        let earliestFree = slotFreeAt.minimum
        if earliestFree > t, queuedStarts.count >= configuration.queueDepthPerReplica * replicas {
            if fastReject {
                entry.cause = .shed
                entry.completedAt = Self.saturatingSum(t, configuration.fastRejectLatency)
                counters.count(.shed)
                enqueue(entry, fast: true)
            } else {
                fail(&entry, .shed, after: configuration.timeout)
            }
            return
        }

        let degradation = configuration.degradation.values(atLoad: load)
        let degraded = min(nominal * degradation.latencyMultiplier, Self.longestDuration)
        let occupancy = max(1, Int64(workersSlowDown ? degraded : nominal))
        let start = max(t, earliestFree)
        slotFreeAt.replaceMinimum(with: start &+ occupancy)
        occupancyEnds.insert(start &+ occupancy)
        if start > t {
            queuedStarts.append(start)
            counters.peakQueued = max(counters.peakQueued, queuedStarts.count)
        }
        counters.busySlotNanoseconds &+= occupancy
        entry.serviceStart = start
        entry.busy = occupancy

        let responseTime = (start - t) &+ Int64(degraded)
        if responseTime >= configuration.timeout {
            fail(&entry, .queueTimeout, after: configuration.timeout)
            return
        }
        entry.completedAt = Self.saturatingSum(t, responseTime)
        // Each error is drawn only when it can still happen, as the original draws its stream.
        if degradation.errorProbability > 0,
            draw(request.id, .backendOverloadError) < degradation.errorProbability
        {
            entry.cause = .overloadError
        } else if profile.healthErrorRate > 0, draw(request.id, .backendHealthError) < profile.healthErrorRate {
            entry.cause = profile.healthCause
        }
        counters.count(entry.cause)
        served.insert(entry)
        pendingCompletions += 1
        if entry.completedAt < nextCompletionTime { nextCompletionTime = entry.completedAt }
    }

    /// Removes and returns the earliest pending completion. Call it only when
    /// ``nextCompletionTime`` is finite (and, to keep time consistent, not after ``now``).
    public mutating func popCompletion() -> BackendCompletion {
        precondition(pendingCompletions > 0, "Backend.popCompletion() called with no pending completion")
        var best = 0
        var bestEntry = served.first
        if let candidate = timedOut.first, bestEntry.map({ candidate.precedes($0) }) ?? true {
            best = 1
            bestEntry = candidate
        }
        if let candidate = rejectedFast.first, bestEntry.map({ candidate.precedes($0) }) ?? true {
            best = 2
        }
        let taken: PendingCompletion
        switch best {
        case 0: taken = served.removeFirst()
        case 1: taken = timedOut.removeFirst()
        default: taken = rejectedFast.removeFirst()
        }
        pendingCompletions -= 1
        nextCompletionTime = min(
            served.first?.completedAt ?? .max,
            min(timedOut.first?.completedAt ?? .max, rejectedFast.first?.completedAt ?? .max))
        return taken.completion
    }

    /// Adds a failure to one of the sorted rings.
    @inline(__always)
    private mutating func enqueue(_ entry: PendingCompletion, fast: Bool) {
        if fast { rejectedFast.append(entry) } else { timedOut.append(entry) }
        pendingCompletions += 1
        if entry.completedAt < nextCompletionTime { nextCompletionTime = entry.completedAt }
    }

    // MARK: - Internals

    /// A uniform in [0, 1) for `purpose` of request `id`: keyed, or the next of the sequential stream.
    @inline(__always)
    private mutating func draw(_ id: UInt64, _ purpose: CommonRandom.Purpose) -> Double {
        crnOn ? CommonRandom.uniform(seed: seed, id: id, purpose: purpose) : sequential.goFloat64()
    }

    /// Longest duration a computed latency may reach (keeps Int64 arithmetic far from overflow).
    private static let longestDuration = 1e17

    /// `total += count × duration`, saturating instead of wrapping (advancing to a far future
    /// instant must not overflow the integrals).
    @inline(__always)
    private static func accumulate(_ total: inout Int64, _ count: Int, _ duration: Int64) {
        let (product, productOverflow) = Int64(count).multipliedReportingOverflow(by: duration)
        let (sum, sumOverflow) = total.addingReportingOverflow(product)
        total = productOverflow || sumOverflow ? .max : sum
    }

    @inline(__always)
    private static func saturatingSum(_ a: Int64, _ b: Int64) -> Int64 {
        let (sum, overflow) = a.addingReportingOverflow(b)
        return overflow ? .max : sum
    }

    /// A failure that surfaces after `delay` (timeout-delayed failures all share one delay, so
    /// they complete in submission order).
    private mutating func fail(_ entry: inout PendingCompletion, _ cause: BackendOutcomeCause, after delay: Int64) {
        entry.cause = cause
        entry.completedAt = Self.saturatingSum(entry.submittedAt, delay)
        counters.count(cause)
        enqueue(entry, fast: false)
    }

    /// Moves the continuous state from ``now`` to `t`.
    @inline(__always)
    private mutating func step(to t: Int64) {
        guard t > now else { return }
        let elapsed = t - now
        if !isCrashed {
            // Busy slots = requests holding or awaiting a slot, capped at the slot count (the
            // queue only forms when every slot is busy); integrate it exactly between endings.
            let total = slotFreeAt.count
            let cap = autoscalerCountsQueue ? Int.max : total
            var last = now
            while occupancyEnds.minimum <= t {
                let end = occupancyEnds.removeMinimum()
                Self.accumulate(&busyArea, min(occupancyEnds.count + 1, cap), end - last)
                last = end
            }
            Self.accumulate(&busyArea, min(occupancyEnds.count, cap), t - last)
            Self.accumulate(&capacityArea, total, elapsed)
            while let start = queuedStarts.first, start <= t { queuedStarts.removeFirst() }
        }
        Self.accumulate(&counters.replicaNanoseconds, replicas, elapsed)
        while phaseCursor + 1 < phaseStarts.count, phaseStarts[phaseCursor + 1] <= t { phaseCursor += 1 }
        now = t

        // The smoothed load is frozen while down (the original stops measuring it).
        if !isCrashed {
            let instantaneous = Double(occupancyEnds.count) / Double(slotFreeAt.count)
            load += (1 - exp(-Double(elapsed) * loadDecayPerNanosecond)) * (instantaneous - load)
            if load > counters.peakLoad { counters.peakLoad = load }
            if load >= configuration.crashLoad {
                if overloadedSince == nil { overloadedSince = t }
            } else {
                overloadedSince = nil
            }
            if let since = overloadedSince, t - since >= configuration.crashSustain { crash() }
        }

        // The demand estimate is frozen while down, so the autoscaler remembers pre-crash demand.
        let window = t - demandWindowStart
        if !isCrashed, window >= BackendConfiguration.nanosecondsPerSecond {
            let rate = Double(admittedInWindow) * 1e9 / Double(window)
            demandRate += configuration.demandSmoothing * (rate - demandRate)
            admittedInWindow = 0
            demandWindowStart = t
        }
    }

    /// Nothing in flight, nothing pending, the fleet at its minimum and no demand that could
    /// scale it up: autoscaler evaluations cannot change anything until the next submission.
    private var isIdleAtMinimum: Bool {
        guard !isCrashed, occupancyEnds.isEmpty, pendingReplicas == nil, overloadedSince == nil,
            replicas == configuration.minimumReplicas
        else { return false }
        if configuration.model.autoscalerSeesBusySlots { return busyArea == 0 }
        // The demand EWMA only decays while idle, so if it does not ask for more now it never will.
        let wanted = (demandRate / (configuration.targetUtilisation * configuration.nominalReplicaThroughput)).rounded(.up)
        return wanted <= Double(replicas)
    }

    /// Jumps over idle evaluations to the last one before `instant`, so that advancing across a
    /// long quiet stretch (or to the end of time to drain) costs O(1) instead of one step per
    /// evaluation interval. The samples they would record are low and cannot allow a scale-down
    /// below the minimum, and they leave the window before any later scale-down is possible.
    private mutating func skipIdleEvaluations(before instant: Int64) {
        let interval = configuration.evaluationInterval
        let skipped = (instant - nextEvaluationAt) / interval
        guard skipped > 0 else { return }
        nextEvaluationAt += skipped * interval
    }

    /// Restarts, replica arrivals and evaluations due at ``now``, in that order.
    private mutating func handleScheduledEvents() {
        if isCrashed, now >= restartAt { restart() }
        if !isCrashed, now >= readyAt { provisionPendingReplicas() }
        if now >= nextEvaluationAt {
            nextEvaluationAt = Self.saturatingSum(nextEvaluationAt, configuration.evaluationInterval)
            evaluateAutoscaler()
        }
    }

    private mutating func crash() {
        let t = now
        isCrashed = true
        crashedAt = t
        restartAt = Self.saturatingSum(t, configuration.downtime)
        // The autoscaler is frozen while down. The original's demand-based one evaluates at once on
        // restart (the interval since its previous check has long passed); a busy-slot one first
        // needs an interval of measurements from the new pods.
        nextEvaluationAt = configuration.model.autoscalerSeesBusySlots
            ? Self.saturatingSum(restartAt, configuration.evaluationInterval) : restartAt
        counters.crashes += 1
        overloadedSince = nil
        // A Deployment that keeps its replica count also keeps a scale-up already decided.
        replicasAfterRestart = max(replicas, pendingReplicas ?? 0)
        pendingReplicas = nil
        readyAt = .max
        // Work not done by now is lost; in-flight successes become failures at their own instants.
        var lostWork: Int64 = 0
        var flipped = 0
        func cutShort(_ entry: inout PendingCompletion) {
            guard entry.busy > 0 else { return }
            let done = min(max(t - entry.serviceStart, 0), entry.busy)
            lostWork += entry.busy - done
            entry.busy = done
        }
        served.updateEach { entry in
            cutShort(&entry)
            if entry.cause == .success {
                entry.cause = .crashed
                flipped += 1
            }
        }
        timedOut.updateEach { cutShort(&$0) }
        counters.busySlotNanoseconds -= lostWork
        counters.count(.success, by: -flipped)
        counters.count(.crashed, by: flipped)
        occupancyEnds.removeAll()
        queuedStarts.removeAll()
    }

    private mutating func restart() {
        counters.downtimeNanoseconds += now - crashedAt
        isCrashed = false
        restartAt = .max
        replicas = configuration.keepReplicasAcrossCrash ? replicasAfterRestart : configuration.minimumReplicas
        counters.peakReplicas = max(counters.peakReplicas, replicas)
        slotFreeAt.removeAll()
        for _ in 0..<(replicas * slotsPerReplica) { slotFreeAt.insert(now) }
        busyArea = 0
        capacityArea = 0
        utilisationWindowStart = now
        // Fresh pods: no load, and (as the original) no scale-down cool-down; the autoscaler keeps
        // its demand estimate and utilisation history.
        load = 0
        lastScaleUpAt = nil
        admittedInWindow = 0
        demandWindowStart = now
    }

    private mutating func provisionPendingReplicas() {
        guard let target = pendingReplicas else { return }
        pendingReplicas = nil
        readyAt = .max
        if target > replicas {
            for _ in 0..<((target - replicas) * slotsPerReplica) { slotFreeAt.insert(now) }
            replicas = target
            counters.peakReplicas = max(counters.peakReplicas, replicas)
        }
    }

    /// The highest utilisation sample of the observation window (including the latest).
    private var highestRecentUtilisation: Double {
        var highest = -Double.infinity
        utilisationSamples.forEach { highest = max(highest, $0.utilisation) }
        return highest
    }

    private mutating func evaluateAutoscaler() {
        defer {
            busyArea = 0
            capacityArea = 0
            utilisationWindowStart = now
        }
        guard !isCrashed else { return }
        let c = configuration
        let utilisation: Double
        let wanted: Double
        if c.model.autoscalerSeesBusySlots {
            utilisation = capacityArea > 0 ? Double(busyArea) / Double(capacityArea) : 0
            // Kubernetes' rule, replicas × utilisation / target, written as the replicas that carry
            // the measured busy slots at the target, so that replicas arriving at this very instant
            // do not scale a measurement taken on the smaller fleet. The epsilon keeps an exact
            // ratio from rounding up.
            let window = max(1, now - utilisationWindowStart)
            let averageBusySlots = Double(busyArea) / Double(window)
            wanted = (averageBusySlots / (c.targetUtilisation * Double(slotsPerReplica)) - 1e-9).rounded(.up)
        } else {
            utilisation = demandRate / (Double(replicas) * c.nominalReplicaThroughput)
            wanted = (demandRate / (c.targetUtilisation * c.nominalReplicaThroughput)).rounded(.up)
        }
        lastUtilisation = utilisation
        let desired = Int(min(max(wanted, Double(c.minimumReplicas)), Double(c.maximumReplicas)))

        utilisationSamples.append(UtilisationSample(at: now, utilisation: utilisation))
        let cutoff = now - c.scaleDownObservationWindow
        while let oldest = utilisationSamples.first, oldest.at < cutoff { utilisationSamples.removeFirst() }

        if desired > replicas {
            // A decision for more than is already pending restarts the provisioning wait.
            if desired > (pendingReplicas ?? replicas) {
                pendingReplicas = desired
                readyAt = Self.saturatingSum(now, c.provisioningLag)
                lastScaleUpAt = now
                counters.scaleUps += 1
            }
        } else if desired < replicas, pendingReplicas == nil,
            lastScaleUpAt.map({ now - $0 >= c.scaleDownQuietPeriod }) ?? true,
            highestRecentUtilisation < 0.9 * c.targetUtilisation
        {
            // Remove the slots that free up first: idle ones, or those closest to idle (their
            // committed work still completes).
            for _ in 0..<((replicas - desired) * slotsPerReplica) { slotFreeAt.removeMinimum() }
            replicas = desired
            counters.scaleDowns += 1
        }
    }
}
