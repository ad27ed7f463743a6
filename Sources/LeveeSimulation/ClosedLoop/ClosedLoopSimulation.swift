import Levee

/// Everything one candidate's run on one seed needs, except the candidate's type.
struct ClosedLoopRunContext: Sendable {
    var scenario: Scenario
    var slo: SLO
    var seed: UInt64
    var backend: BackendConfiguration
    var clients: ClientPolicy
    var instances: Int
    var identifier: String
    var displayName: String
    var progress: BenchmarkProgress?
    /// Set for the runs a report charts: they record series and leave them here.
    var seriesSink: ClosedLoopSeriesSink? = nil
}

/// One attempt the candidate admitted, from its admission until both its client has seen the
/// outcome and the backend has answered (which may come after the client gave up).
struct AttemptRecord {
    var arrivalIndex: UInt64 = 0
    var arrivalTime: Int64 = 0
    var sentAt: Int64 = 0
    var instance: Int32 = 0
    var slot: Int32 = 0
    var attempt: Int32 = 0
    var backendAnswered = false
    var clientResolved = false
}

/// The closed loop for one candidate type and one seed: exogenous arrivals, retries, client
/// deadlines and backend completions merged in time order.
///
/// Generic over the candidate, so calls to it are specialised; the tables are allocated once
/// (and grow by doubling only while a run reaches its largest backlog), so the loop does not
/// allocate per event.
struct ClosedLoopSimulation<Candidate: BenchmarkCandidate> {
    private var candidates: [Candidate]
    private var backend: Backend
    private var demand: ExogenousDemand
    private var retryTimers: RetryHeap
    private var budget: RetryBudgetWindow
    private let policy: ClientPolicy
    private let maxAttempts: Int32
    private let seed: UInt64
    private let timeout: Int64
    private let context: ClosedLoopRunContext
    private let healthErrorRates: [Double]

    // Attempt records and their free list; the deadline ring holds them in send order, which
    // is deadline order because every attempt has the same timeout.
    private var records: ContiguousArray<AttemptRecord>
    private var freeRecords: ContiguousArray<Int32>
    private var deadlines: IndexRing

    // Candidate slots: one free stack per instance, laid out back to back.
    private let slotCapacity: Int
    private var freeSlots: ContiguousArray<Int32>
    private var freeSlotCount: ContiguousArray<Int>
    private var inFlight: ContiguousArray<Int>
    private var nextInstance = 0

    // Scores.
    private var score = EpochScore()
    private var latency = LatencyHistogram()
    private var offeredPerMinute: ContiguousArray<Int32>
    private var goodPerMinute: ContiguousArray<Int32>
    private var allowed = 0
    private var blocked = 0
    private var maxConcurrency = 0
    private var offered = 0
    private var goodput = 0
    private var requestsSucceeded = 0
    private var timeouts = 0
    private var retries = 0
    private var retriesDenied = 0
    private var wastedNanoseconds: Int64 = 0
    private var lateAnswers = 0
    private var blockedWouldSucceed = 0
    private var probes = 0
    private var probesDuringOutage = 0
    private var arrivalsSinceReport = 0
    /// Present only when the run is charted, so an unreported run pays one nil test per event.
    private var recorder: ClosedLoopSeriesRecorder?

    /// Slots per candidate instance: twice the attempts that can be sent within one timeout at
    /// the scenario's highest rate (every attempt of every request), spread over the instances.
    static func slotCapacity(scenario: Scenario, timeout: Int64, maxAttempts: Int, instances: Int) -> Int {
        let peak = scenario.phases.reduce(0.0) { max($0, Double($1.rpm) / 60) }
        let bound = 2 * peak * Double(timeout) / 1e9 * Double(maxAttempts) / Double(instances) + 256
        var capacity = 64
        while Double(capacity) < bound && capacity < 1 << 22 { capacity *= 2 }
        return capacity
    }

    init(context: ClosedLoopRunContext, make: (CandidateEnvironment) -> Candidate) throws(ClosedLoopError) {
        self.context = context
        healthErrorRates = Self.healthErrorRates(scenario: context.scenario, backend: context.backend)
        seed = context.seed
        timeout = context.slo.timeoutNanoseconds
        policy = context.clients
        maxAttempts = Int32(context.clients.maxAttempts)
        slotCapacity = Self.slotCapacity(scenario: context.scenario, timeout: timeout, maxAttempts: context.clients.maxAttempts,
                                         instances: context.instances)
        let environment = CandidateEnvironment(slo: context.slo, slotCapacity: slotCapacity)
        candidates = (0..<context.instances).map { _ in make(environment) }
        do {
            backend = try Backend(configuration: context.backend, scenario: context.scenario, seed: context.seed)
        } catch {
            throw .invalidBackend("\(error)")
        }
        demand = ExogenousDemand(scenario: context.scenario, seed: context.seed)
        retryTimers = RetryHeap(reservingCapacity: 1024)
        budget = RetryBudgetWindow(context.clients.budget)

        let recordCapacity = context.instances * slotCapacity
        records = ContiguousArray(repeating: AttemptRecord(), count: recordCapacity)
        freeRecords = ContiguousArray((0..<Int32(recordCapacity)).reversed())
        deadlines = IndexRing(capacity: recordCapacity)
        freeSlots = ContiguousArray(repeating: 0, count: context.instances * slotCapacity)
        for instance in 0..<context.instances {
            for slot in 0..<slotCapacity { freeSlots[instance * slotCapacity + slot] = Int32(slotCapacity - 1 - slot) }
        }
        freeSlotCount = ContiguousArray(repeating: slotCapacity, count: context.instances)
        inFlight = ContiguousArray(repeating: 0, count: context.instances)
        // Arrivals happen within the scenario plus its boundary drift; a few spare minutes.
        let minutes = Int(context.scenario.totalDurationNanoseconds / 60_000_000_000) + 16
        offeredPerMinute = ContiguousArray(repeating: 0, count: minutes)
        goodPerMinute = ContiguousArray(repeating: 0, count: minutes)
        if context.seriesSink != nil {
            recorder = ClosedLoopSeriesRecorder(scenario: context.scenario, identifier: context.identifier, name: context.displayName)
        }
    }

    /// Builds and runs the simulation for one candidate type.
    static func run(_ context: ClosedLoopRunContext, make: (CandidateEnvironment) -> Candidate) throws(ClosedLoopError)
        -> ClosedLoopCandidateResult
    {
        var simulation = try ClosedLoopSimulation(context: context, make: make)
        try simulation.run()
        return simulation.result()
    }

    /// Plays the whole scenario, then drains retries, deadlines and the backend.
    mutating func run() throws(ClosedLoopError) {
        while true {
            let arrival = demand.nextTime
            let retry = retryTimers.nextTime
            let deadline = deadlines.isEmpty ? Int64.max : records[Int(deadlines.first)].sentAt &+ timeout
            let other = min(arrival, retry, deadline)
            let completion = backend.nextCompletionTime
            // Backend answers first at equal instants: an answer at the deadline is in time.
            if completion <= other {
                if completion == .max { break }
                backend.advance(to: completion)
                answer(backend.popCompletion())
                continue
            }
            // A deadline touches only the client and the candidate; arrivals and retries advance
            // the backend themselves, just before the candidate decides.
            if deadline == other {
                expire(record: Int(deadlines.removeFirst()), at: deadline)
            } else if retry == other {
                let timer = retryTimers.pop()
                retries += 1
                try send(arrivalIndex: timer.arrivalIndex, arrivalTime: timer.arrivalTime, attempt: timer.attempt, at: other)
            } else {
                let index = demand.nextIndex
                demand.take()
                try arrive(index: index, at: arrival)
            }
        }
        context.progress?.add(arrivalsSinceReport)
        arrivalsSinceReport = 0
    }

    @inline(__always)
    private mutating func arrive(index: UInt64, at time: Int64) throws(ClosedLoopError) {
        offered += 1
        offeredPerMinute[minute(of: time)] &+= 1
        recorder?.arrival(at: time)
        budget.recordFirstAttempt(at: time)
        arrivalsSinceReport += 1
        if arrivalsSinceReport == 1 << 16 {
            context.progress?.add(arrivalsSinceReport)
            arrivalsSinceReport = 0
        }
        try send(arrivalIndex: index, arrivalTime: time, attempt: 1, at: time)
    }

    @inline(__always)
    private func minute(of time: Int64) -> Int {
        min(Int(time / 60_000_000_000), offeredPerMinute.count - 1)
    }

    /// One attempt: the next instance decides; admitted attempts go to the backend.
    @inline(__always)
    private mutating func send(arrivalIndex: UInt64, arrivalTime: Int64, attempt: Int32, at time: Int64) throws(ClosedLoopError) {
        let instance = nextInstance
        nextInstance = nextInstance + 1 == candidates.count ? 0 : nextInstance + 1
        let free = freeSlotCount[instance]
        guard free > 0 else { throw .slotOverrun(capacity: slotCapacity, instance: instance, time: time) }
        let slot = freeSlots[instance * slotCapacity + free - 1]
        backend.advance(to: time)
        let admitted = candidates[instance].admit(slot: Int(slot), at: time)
        if recorder != nil {
            recorder?.decision(admitted: admitted, state: candidates[instance].reportedState, at: time, replicas: backend.replicas,
                               load: backend.load, queued: backend.queued, crashed: backend.isCrashed)
        }
        guard admitted else {
            blocked += 1
            if wouldSucceed(arrivalIndex: arrivalIndex, attempt: attempt) { blockedWouldSucceed += 1 }
            attemptFailed(arrivalIndex: arrivalIndex, arrivalTime: arrivalTime, attempt: attempt, at: time)
            return
        }
        freeSlotCount[instance] = free - 1
        allowed += 1
        let concurrent = inFlight[instance] + 1
        inFlight[instance] = concurrent
        if candidates[instance].reportedState == .open {
            probes += 1
            if backend.isCrashed { probesDuringOutage += 1 }
        } else if concurrent > maxConcurrency {
            maxConcurrency = concurrent
        }
        if freeRecords.isEmpty { growRecords() }
        let record = freeRecords.removeLast()
        records[Int(record)] = AttemptRecord(
            arrivalIndex: arrivalIndex, arrivalTime: arrivalTime, sentAt: time, instance: Int32(instance), slot: slot,
            attempt: attempt, backendAnswered: false, clientResolved: false)
        deadlines.append(record)
        backend.submit(BackendRequest(id: Self.requestID(arrivalIndex: arrivalIndex, attempt: attempt), tag: record), at: time)
    }

    /// The backend's identity of an attempt: the arrival index and the attempt number, the same
    /// whichever candidate sends it.
    @inline(__always)
    static func requestID(arrivalIndex: UInt64, attempt: Int32) -> UInt64 {
        arrivalIndex &<< 8 | UInt64(attempt)
    }

    /// Whether a rejected attempt would have succeeded, estimated from what can be known without
    /// sending it: the backend is up, its load causes no overload errors, and the attempt's own
    /// health draw (the backend's common random number for this request id) passes. Queueing
    /// the attempt would have caused is not modelled, which is why the load must be low.
    @inline(__always)
    private func wouldSucceed(arrivalIndex: UInt64, attempt: Int32) -> Bool {
        guard !backend.isCrashed, context.backend.degradation.values(atLoad: backend.load).errorProbability == 0 else {
            return false
        }
        let draw = CommonRandom.uniform(seed: seed, id: Self.requestID(arrivalIndex: arrivalIndex, attempt: attempt),
                                        purpose: .backendHealthError)
        return draw >= healthErrorRates[min(backend.phaseIndex, healthErrorRates.count - 1)]
    }

    /// Each phase's probability of the backend's own error, by the backend's rule: the phase's
    /// error rate when it drives the backend's health, else the (hourly scaled) baseline rate.
    static func healthErrorRates(scenario: Scenario, backend: BackendConfiguration) -> [Double] {
        scenario.phases.indices.map { index in
            if backend.model.phaseDrivesHealth { return scenario.phases[index].errorRate }
            let hourFactor = backend.baselineErrorFollowsHour
                ? Backend.cyberMondayDegradation(atScenarioNanoseconds: scenario.phaseStartNanoseconds[index]) : 1
            return min(1, backend.baselineErrorRate * hourFactor)
        }
    }

    @inline(never)
    private mutating func growRecords() {
        let old = records.count
        records.append(contentsOf: repeatElement(AttemptRecord(), count: old))
        freeRecords.append(contentsOf: (Int32(old)..<Int32(2 * old)).reversed())
    }

    /// A backend answer: the attempt's outcome if its client still waits, wasted work if not
    /// (or if the backend itself timed the request out).
    @inline(__always)
    private mutating func answer(_ completion: BackendCompletion) {
        let index = Int(completion.tag)
        if records[index].clientResolved {
            // The deadline has passed (that is what resolved it): the work was for nobody.
            wastedNanoseconds &+= completion.busyNanoseconds
            lateAnswers += 1
            freeRecords.append(completion.tag)
            return
        }
        records[index].backendAnswered = true
        records[index].clientResolved = true
        if completion.cause == .queueTimeout {
            // The backend gave up at the deadline, but its worker kept serving the request.
            wastedNanoseconds &+= completion.busyNanoseconds
        }
        resolve(record: index, succeeded: completion.succeeded, at: completion.completedAt)
    }

    /// A client deadline: a timeout if the backend has not answered yet.
    @inline(__always)
    private mutating func expire(record index: Int, at time: Int64) {
        if records[index].backendAnswered {
            freeRecords.append(Int32(index))
            return
        }
        records[index].clientResolved = true
        timeouts += 1
        resolve(record: index, succeeded: false, at: time)
    }

    /// The client sees the attempt's outcome; the candidate hears it; the slot is free again.
    @inline(__always)
    private mutating func resolve(record index: Int, succeeded: Bool, at time: Int64) {
        let record = records[index]
        let instance = Int(record.instance)
        candidates[instance].complete(slot: Int(record.slot), succeeded: succeeded, at: time)
        let free = freeSlotCount[instance]
        freeSlots[instance * slotCapacity + free] = record.slot
        freeSlotCount[instance] = free + 1
        inFlight[instance] -= 1
        score.record(succeeded: succeeded, at: time)
        latency.record(time &- record.sentAt)
        recorder?.outcome(succeeded: succeeded, at: time)
        if succeeded {
            requestsSucceeded += 1
            if time &- record.arrivalTime <= timeout {
                goodput += 1
                goodPerMinute[minute(of: record.arrivalTime)] &+= 1
                recorder?.good(arrivalTime: record.arrivalTime)
            }
        } else {
            attemptFailed(arrivalIndex: record.arrivalIndex, arrivalTime: record.arrivalTime, attempt: record.attempt, at: time)
        }
    }

    /// A failed attempt (rejected, failed or timed out): retry if the policy and budget allow.
    @inline(__always)
    private mutating func attemptFailed(arrivalIndex: UInt64, arrivalTime: Int64, attempt: Int32, at time: Int64) {
        guard attempt < maxAttempts else { return }
        guard budget.withdrawRetry(at: time) else {
            retriesDenied += 1
            return
        }
        let next = attempt + 1
        let unit = CommonRandom.uniform(seed: seed, id: Self.requestID(arrivalIndex: arrivalIndex, attempt: next),
                                       purpose: .retryJitter)
        let delay = policy.delay(beforeAttempt: Int(next), unit: unit)
        retryTimers.push(RetryTimer(time: time &+ delay, arrivalIndex: arrivalIndex, arrivalTime: arrivalTime, attempt: next))
    }

    func result() -> ClosedLoopCandidateResult {
        var minutes = 0
        var attained = 0
        for (offered, good) in zip(offeredPerMinute, goodPerMinute) where offered > 0 {
            minutes += 1
            if Double(good) >= context.slo.successRate * Double(offered) { attained += 1 }
        }
        if let recorder { context.seriesSink?.store(recorder.series) }
        let successScore = score.successScore
        let failureScore = score.failureScore
        return ClosedLoopCandidateResult(
            identifier: context.identifier, name: context.displayName,
            blocked: blocked, allowed: allowed, successes: score.successes, failures: score.failures,
            successScore: successScore, failureScore: failureScore,
            delta: EpochScore.delta(successScore: successScore, failureScore: failureScore, allowed: allowed, blocked: blocked),
            maxConcurrency: maxConcurrency, offered: offered, goodput: goodput, requestsSucceeded: requestsSucceeded,
            sloAttainment: minutes == 0 ? 0 : Double(attained) / Double(minutes), minutesMeasured: minutes,
            latencyP50Milliseconds: (latency.quantile(0.50) ?? 0) / 1e6,
            latencyP99Milliseconds: (latency.quantile(0.99) ?? 0) / 1e6,
            timeouts: timeouts, retries: retries, retriesDenied: retriesDenied,
            wastedWorkSeconds: Double(wastedNanoseconds) / 1e9, lateAnswers: lateAnswers,
            blockedWouldSucceed: blockedWouldSucceed, probes: probes, probesDuringOutage: probesDuringOutage,
            backend: backend.statistics, protocolErrors: candidates.reduce(0) { $0 + $1.protocolErrors })
    }
}
