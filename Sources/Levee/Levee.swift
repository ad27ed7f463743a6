import Synchronization

/// A self-tuning circuit breaker and adaptive concurrency limiter, configured by an ``SLO`` alone.
///
/// `Levee` is a `Sendable` final class: share one instance per dependency across tasks and
/// threads. All decisions are made by a value-type state machine behind a `Mutex`; notifications
/// are delivered after the lock is released. Memory is fixed at creation (see
/// ``Levee/memoryFootprint``), whatever the traffic.
///
/// Two APIs drive the same state machine:
/// - ``run(classify:_:)`` reads the configured clock, admits or throws a ``Rejection``,
///   runs the operation and records its outcome;
/// - ``acquire(at:)`` and ``release(_:outcome:at:)`` take explicit instants (integer nanoseconds
///   on a time line of the caller's choosing), for simulation, stream processing on event time
///   and shadow deployments. Given the same instants, both make identical decisions.
public final class Levee: Sendable {
    /// The SLO this instance was created with.
    public let slo: SLO
    /// The options this instance was created with.
    public let options: Options

    let machine: Mutex<LeveeStateMachine>
    let notifications: Notifications

    /// Creates a Levee for a dependency that must meet `slo`.
    public init(slo: SLO, options: Options = Options()) {
        self.slo = slo
        self.options = options
        self.machine = Mutex(LeveeStateMachine(slo: slo, configuration: options.machineConfiguration))
        self.notifications = Notifications()
    }

    // MARK: Explicit-time API

    /// Asks to admit a call at `instant` (nanoseconds on the caller's time line).
    ///
    /// Completions due at an instant must be released before an arrival at the same instant is
    /// acquired. Instants must not decrease.
    /// - Returns: ``Admission/admitted(_:)`` with a permit to release later, or
    ///   ``Admission/rejected(_:)`` with the reason.
    /// - Throws: ``LeveeError/timeWentBackwards(instant:latest:)``; nothing changes.
    public func acquire(at instant: Int64) throws(LeveeError) -> Admission {
        let (admission, change) = try machine.withLock { (machine) throws(LeveeError) in
            try machine.acquire(at: instant)
        }
        if let change { notifications.deliver(change) }
        return admission
    }

    /// Reports how an admitted call ended, at `instant`. The call's duration is
    /// `instant - permit.acquiredAt`.
    ///
    /// Releasing the same permit twice, a permit from before ``restore(from:at:)-(LeveeSnapshot,_)``,
    /// or a permit another instance issued does nothing (it is counted as a stale release).
    /// - Throws: ``LeveeError/timeWentBackwards(instant:latest:)`` or
    ///   ``LeveeError/releasedBeforeAcquired(acquiredAt:releasedAt:)``; in both cases nothing
    ///   changes and the permit stays outstanding.
    public func release(_ permit: Permit, outcome: Outcome, at instant: Int64) throws(LeveeError) {
        let change = try machine.withLock { (machine) throws(LeveeError) in
            try machine.release(permit, outcome: outcome, at: instant)
        }
        if let change { notifications.deliver(change) }
    }

    // MARK: Observation

    /// The current state.
    public var state: LeveeState { machine.withLock { $0.state } }

    /// A consistent snapshot of the estimates and counters.
    public var statistics: LeveeStatistics { machine.withLock { $0.statistics } }

    /// The number of bytes this instance holds, fixed at creation.
    public var memoryFootprint: Int {
        MemoryLayout<Levee>.size + machine.withLock { $0.memoryFootprint }
    }
}

extension Levee {
    /// How a ``Levee`` runs. None of these tune the controller: the SLO does.
    public struct Options: Sendable {
        /// Compute every decision and report it, but admit every call. Use it to adopt Levee
        /// safely: ``Permit/wouldHaveBeenRejected`` and ``LeveeStatistics/Counters/dryRunRejections``
        /// show what would have been rejected, and why.
        public var dryRun: Bool
        /// The clock ``Levee/run(classify:_:)`` reads. Explicit-time calls never read it.
        public var clock: LeveeClock
        /// A hard ceiling on calls in flight, which sizes the fixed permit table (8 bytes per slot).
        /// Calls beyond it are rejected with ``RejectionReason/concurrencyLimit``.
        public var maximumInFlight: Int

        public init(dryRun: Bool = false, clock: LeveeClock = .continuous, maximumInFlight: Int = 4096) {
            self.dryRun = dryRun
            self.clock = clock
            self.maximumInFlight = max(1, min(maximumInFlight, 1 << 24))
        }

        var machineConfiguration: LeveeStateMachine.Configuration {
            .init(dryRun: dryRun, maximumInFlight: maximumInFlight)
        }
    }
}
