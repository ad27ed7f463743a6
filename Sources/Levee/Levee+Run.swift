import Synchronization

extension Levee {
    /// Runs `operation` if Levee admits it, and records how it ended.
    ///
    /// - A rejection throws ``Rejection`` (with its reason and the figures behind it) without
    ///   running the operation.
    /// - A value counts as a success and a thrown error as a failure, unless `classify` says
    ///   otherwise (for example, a returned HTTP 503 can count as a failure, a 404 as a success).
    /// - `CancellationError` thrown while the calling task is cancelled counts as neither: the
    ///   permit is released and no sample is recorded.
    ///
    /// Reads ``Options/clock`` twice (admission and completion). The operation's error is
    /// rethrown unchanged.
    @inlinable
    public func run<T>(
        isolation: isolated (any Actor)? = #isolation,
        classify: (Result<T, any Error>) -> Outcome = Levee.defaultClassification,
        _ operation: () async throws -> T
    ) async throws -> T {
        let permit = try admitNow()
        let result: Result<T, any Error>
        do {
            result = .success(try await operation())
        } catch {
            result = .failure(error)
        }
        finish(permit, outcome: outcome(of: result, classify: classify))
        return try result.get()
    }

    /// Runs `operation` under Levee with the SLO timeout enforced when `enforcingTimeout` is true:
    /// at the deadline the operation's task is cancelled, the call counts as a failure, and
    /// ``LeveeTimeoutError`` is thrown. Otherwise behaves like ``run(classify:_:)``.
    ///
    /// Enforcing the deadline costs a child task per call, so it is opt-in; prefer a transport's
    /// own deadline where one exists.
    public func run<T: Sendable>(
        isolation: isolated (any Actor)? = #isolation,
        enforcingTimeout: Bool,
        classify: (Result<T, any Error>) -> Outcome = Levee.defaultClassification,
        _ operation: @escaping @Sendable () async throws -> T
    ) async throws -> T {
        guard enforcingTimeout else { return try await run(isolation: isolation, classify: classify, operation) }
        let permit = try admitNow()
        let deadline = permit.acquiredAt &+ slo.timeoutNanoseconds
        let sleepUntil = options.clock.sleepUntil
        let result: Result<T, any Error> = await withTaskGroup(of: DeadlineRace<T>.self) { group in
            group.addTask {
                do { return .finished(.success(try await operation())) } catch { return .finished(.failure(error)) }
            }
            group.addTask {
                do {
                    try await sleepUntil(deadline)
                    return .deadlinePassed
                } catch {
                    return .timerCancelled
                }
            }
            defer { group.cancelAll() }
            while let next = await group.next() {
                switch next {
                case .finished(let result): return result
                case .deadlinePassed: return .failure(LeveeTimeoutError(timeout: slo.timeout))
                case .timerCancelled: continue  // The caller was cancelled: wait for the operation to notice.
                }
            }
            return .failure(CancellationError())
        }
        let outcome: Outcome
        if case .failure(let error) = result, error is LeveeTimeoutError {
            outcome = .failure
        } else {
            outcome = self.outcome(of: result, classify: classify)
        }
        finish(permit, outcome: outcome)
        return try result.get()
    }

    /// The default classification: values succeed, errors fail.
    public static func defaultClassification<T>(_ result: Result<T, any Error>) -> Outcome {
        switch result {
        case .success: .success
        case .failure: .failure
        }
    }

    @inlinable
    func outcome<T>(of result: Result<T, any Error>, classify: (Result<T, any Error>) -> Outcome) -> Outcome {
        if case .failure(let error) = result, error is CancellationError, Task.isCancelled {
            return .ignored
        }
        return classify(result)
    }

    @usableFromInline
    func admitNow() throws(Rejection) -> Permit {
        let instant = options.clock.now()
        let (admission, change) = machine.withLock { machine in
            // Clamped instants never go backwards, so this cannot throw.
            (try? machine.acquire(at: instant, clampToLatest: true)) ?? (.rejected(machine.unavailable), nil)
        }
        if let change { notifications.deliver(change) }
        switch admission {
        case .admitted(let permit): return permit
        case .rejected(let rejection): throw rejection
        }
    }

    @usableFromInline
    func finish(_ permit: Permit, outcome: Outcome) {
        let instant = options.clock.now()
        let change = machine.withLock { machine in
            try? machine.release(permit, outcome: outcome, at: max(instant, permit.acquiredAt), clampToLatest: true)
        }
        if let change = change ?? nil { notifications.deliver(change) }
    }
}

/// Thrown by ``Levee/run(enforcingTimeout:classify:_:)`` when the operation outlives the SLO timeout.
public struct LeveeTimeoutError: Error, Sendable, Hashable, CustomStringConvertible {
    public let timeout: Duration
    public var description: String { "the operation exceeded the SLO timeout of \(timeout)" }
}

private enum DeadlineRace<T: Sendable>: Sendable {
    case finished(Result<T, any Error>)
    case deadlinePassed
    case timerCancelled
}
