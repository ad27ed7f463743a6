/// Levee's decision logic as a pure value type on integer nanoseconds.
///
/// PLACEHOLDER: admits everything. The controller replaces this.
package struct LeveeStateMachine {
    package struct Configuration: Sendable {
        package var dryRun: Bool
        package var maximumInFlight: Int
        package init(dryRun: Bool = false, maximumInFlight: Int = 4096) {
            self.dryRun = dryRun
            self.maximumInFlight = maximumInFlight
        }
    }

    let slo: SLO
    let configuration: Configuration
    var permits: PermitTable
    var latest: Int64 = .min
    var counters = LeveeStatistics.Counters()
    package private(set) var state: LeveeState = .closed

    package init(slo: SLO, configuration: Configuration) {
        self.slo = slo
        self.configuration = configuration
        self.permits = PermitTable(capacity: configuration.maximumInFlight)
    }

    package mutating func acquire(at instant: Int64) throws(LeveeError) -> (Admission, StateChange?) {
        guard instant >= latest else { throw .timeWentBackwards(instant: instant, latest: latest) }
        latest = instant
        let (slot, generation) = permits.take()
        counters.admitted += 1
        let permit = Permit(acquiredAt: instant, isProbe: false, dryRunRejection: nil,
                            slot: slot, generation: generation, epoch: permits.epoch)
        return (.admitted(permit), nil)
    }

    package mutating func release(_ permit: Permit, outcome: Outcome, at instant: Int64) throws(LeveeError) -> StateChange? {
        guard instant >= latest else { throw .timeWentBackwards(instant: instant, latest: latest) }
        latest = instant
        guard permits.free(slot: permit.slot, generation: permit.generation, epoch: permit.epoch) else {
            counters.staleReleases += 1
            return nil
        }
        switch outcome {
        case .success: counters.successes += 1
        case .failure: counters.failures += 1
        case .ignored: counters.ignored += 1
        }
        return nil
    }

    package var statistics: LeveeStatistics {
        LeveeStatistics(state: state, estimatedSuccessRate: 1, successRateInterval: 0...1, sampleCount: 0,
                        rejectionProbability: 0, concurrencyLimit: nil, inFlight: permits.inFlight,
                        baselineLatencyNanoseconds: 0, recentLatencyNanoseconds: 0, baselineThroughput: 0,
                        offeredRate: 0, counters: counters)
    }

    var memoryFootprint: Int { MemoryLayout<Self>.size + permits.memoryFootprint }
}
