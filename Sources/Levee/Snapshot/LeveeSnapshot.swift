/// Everything a ``Levee`` has learned, so a restarted process starts warm.
///
/// A snapshot is `Codable` (encode it with any encoder) and also has a compact binary form,
/// ``serialized()`` / ``init(serialized:)``. Both carry a format version and a checksum: restoring
/// data that is corrupt, truncated, from a newer format or from a Levee with another SLO throws
/// ``SnapshotError`` and changes nothing.
///
/// Instants are stored relative to the moment the snapshot was taken, so a snapshot can be
/// restored on another time line (a new process, a new clock origin). Calls in flight are not
/// part of it: permits issued before a restore are released harmlessly.
public struct LeveeSnapshot: Sendable, Hashable, Codable {
    /// The format this library writes. Newer formats are refused; older ones are read.
    /// Format 2 added the typical latency that the baseline trails; a format 1 snapshot restores
    /// it as the baseline. Format 3 added the open circuit's streak of failed probes, which backs
    /// off its probe floor; an older snapshot restores it as no streak. Format 4 added the latency
    /// setpoint the concurrency limit has learned; an older snapshot restores it at 1.5. Format 5
    /// added the recent arrival rate and an open circuit's fresh look; an older snapshot restores
    /// the recent rate as the one-second average (no fall under way) and no fresh look.
    public static let currentFormatVersion = 5

    public let formatVersion: Int
    public let successRate: Double
    public let timeoutNanoseconds: Int64
    // Outcome estimator.
    let outcomeRates: [Double]
    let outcomeCounts: [Double]
    let detectorState: [Double]
    // Error side.
    let errorMode: Int
    let rejectionProbability: Double
    let openedNanosecondsAgo: Int64
    let recoveryEvidence: Double
    // Latency side.
    let baselineLogLatency: Double
    let baselineSamples: Double
    let recentLogLatency: Double
    let recentSamples: Double
    // Traffic.
    let arrivalRate: Double
    let completionRate: Double
    let healthyArrivalRate: Double
    let tickAgeNanoseconds: Int64
    let tickArrivals: Int64
    let tickCompletions: Int64
    let successesSinceEvaluation: Int64
    let probeCredit: Double
    let lastProbeNanosecondsAgo: Int64
    let probeFailureRate: Double
    let probeCount: Double
    let limiterPhase: Int64
    let limiterNanosecondsAgo: Int64
    let limiterSpan: Double
    let limiterCheckpoint: Int64
    let limiterReference: Double
    let limiterAdjustments: Int64
    let limit: Double
    /// Absent in format 1.
    let typicalLogLatency: Double?
    /// Absent before format 3.
    let failedProbeStreak: Int64?
    /// The setpoint search's center (a log multiple of the baseline). Absent before format 4.
    let latencySetpointLog: Double?
    /// The arrival rate over the last tenth of a second. Absent before format 5.
    let recentArrivalRate: Double?
    /// The offered rate an open circuit's fresh look began at, zero if none. Absent before format 5.
    let freshLookRate: Double?
    /// FNV-1a over every other field, to catch corruption.
    public private(set) var checksum: UInt64

    /// The SLO the snapshot was taken under.
    public var slo: SLO? { try? SLO(successRate: successRate, timeout: .nanoseconds(timeoutNanoseconds)) }

    init(formatVersion: Int = LeveeSnapshot.currentFormatVersion, successRate: Double, timeoutNanoseconds: Int64,
         outcomeRates: [Double], outcomeCounts: [Double], detectorState: [Double], errorMode: Int,
         rejectionProbability: Double, openedNanosecondsAgo: Int64, recoveryEvidence: Double,
         baselineLogLatency: Double, baselineSamples: Double,
         recentLogLatency: Double, recentSamples: Double, arrivalRate: Double, completionRate: Double,
         healthyArrivalRate: Double, tickAgeNanoseconds: Int64, tickArrivals: Int64, tickCompletions: Int64, successesSinceEvaluation: Int64, probeCredit: Double, lastProbeNanosecondsAgo: Int64, probeFailureRate: Double, probeCount: Double, limiterPhase: Int64, limiterNanosecondsAgo: Int64, limiterSpan: Double, limiterCheckpoint: Int64, limiterReference: Double, limiterAdjustments: Int64, limit: Double,
         typicalLogLatency: Double?, failedProbeStreak: Int64?, latencySetpointLog: Double?,
         recentArrivalRate: Double?, freshLookRate: Double?,
         checksum: UInt64? = nil) {
        self.formatVersion = formatVersion
        self.successRate = successRate
        self.timeoutNanoseconds = timeoutNanoseconds
        self.outcomeRates = outcomeRates
        self.outcomeCounts = outcomeCounts
        self.detectorState = detectorState
        self.errorMode = errorMode
        self.rejectionProbability = rejectionProbability
        self.openedNanosecondsAgo = openedNanosecondsAgo
        self.recoveryEvidence = recoveryEvidence
        self.baselineLogLatency = baselineLogLatency
        self.baselineSamples = baselineSamples
        self.recentLogLatency = recentLogLatency
        self.recentSamples = recentSamples
        self.arrivalRate = arrivalRate
        self.completionRate = completionRate
        self.healthyArrivalRate = healthyArrivalRate
        self.tickAgeNanoseconds = tickAgeNanoseconds
        self.tickArrivals = tickArrivals
        self.tickCompletions = tickCompletions
        self.successesSinceEvaluation = successesSinceEvaluation
        self.probeCredit = probeCredit
        self.lastProbeNanosecondsAgo = lastProbeNanosecondsAgo
        self.probeFailureRate = probeFailureRate
        self.probeCount = probeCount
        self.limiterPhase = limiterPhase
        self.limiterNanosecondsAgo = limiterNanosecondsAgo
        self.limiterSpan = limiterSpan
        self.limiterCheckpoint = limiterCheckpoint
        self.limiterReference = limiterReference
        self.limiterAdjustments = limiterAdjustments
        self.limit = limit
        self.typicalLogLatency = typicalLogLatency
        self.failedProbeStreak = failedProbeStreak
        self.latencySetpointLog = latencySetpointLog
        self.recentArrivalRate = recentArrivalRate
        self.freshLookRate = freshLookRate
        self.checksum = 0
        self.checksum = checksum ?? SnapshotCodec.checksum(of: self)
    }

    /// The compact binary form: magic, version, fields (little-endian), checksum.
    public func serialized() -> [UInt8] { SnapshotCodec.encode(self) }

    /// Reads the binary form, checking its magic, length, version, checksum and every value.
    public init(serialized bytes: [UInt8]) throws(SnapshotError) {
        self = try SnapshotCodec.decode(bytes)
        try validate()
    }

    /// Checks the version, the checksum and that every value is one Levee could have written.
    public func validate() throws(SnapshotError) {
        guard formatVersion >= 1 else { throw .corrupt("format version \(formatVersion) is not valid") }
        guard formatVersion <= Self.currentFormatVersion else {
            throw .unsupportedVersion(found: formatVersion, supported: Self.currentFormatVersion)
        }
        guard SnapshotCodec.checksum(of: self) == checksum else {
            throw .corrupt("checksum mismatch: the snapshot was altered or damaged")
        }
        guard let slo else { throw .corrupt("the SLO it records is not valid") }
        func check(_ condition: Bool, _ what: String) throws(SnapshotError) {
            if !condition { throw .corrupt("\(what) is out of range") }
        }
        try check(outcomeRates.count == OutcomeEstimator.scaleCount && outcomeCounts.count == OutcomeEstimator.scaleCount,
                  "the outcome estimator's size")
        try check(outcomeRates.allSatisfy { $0.isFinite && $0 >= 0 && $0 <= 1 }, "an outcome rate")
        try check(outcomeCounts.allSatisfy { $0.isFinite && $0 >= 0 && $0 <= 8192 }, "an outcome count")
        try check(detectorState.count == 18 && detectorState.allSatisfy { $0.isFinite && $0 >= 0 }, "the change detector")
        try check((0...2).contains(errorMode), "the error mode")
        try check(rejectionProbability.isFinite && (0...1).contains(rejectionProbability), "the rejection probability")
        try check(openedNanosecondsAgo >= 0, "the time since opening")
        try check(recoveryEvidence.isFinite && recoveryEvidence >= 0,
                  "the recovery evidence")
        try check(baselineLogLatency.isFinite && recentLogLatency.isFinite, "a latency")
        try check(baselineSamples.isFinite && baselineSamples >= 0 && recentSamples.isFinite && recentSamples >= 0,
                  "a latency sample count")
        try check(arrivalRate.isFinite && arrivalRate >= 0 && completionRate.isFinite && completionRate >= 0, "a rate")
        try check(healthyArrivalRate.isFinite && healthyArrivalRate >= 0, "healthyArrivalRate")
        try check(tickAgeNanoseconds >= 0, "tickAgeNanoseconds")
        try check(tickArrivals >= 0, "tickArrivals")
        try check(tickCompletions >= 0, "tickCompletions")
        try check((0...16).contains(successesSinceEvaluation), "successesSinceEvaluation")
        try check(probeCredit.isFinite && probeCredit >= 0 && probeCredit < 2, "probeCredit")
        try check(lastProbeNanosecondsAgo >= 0, "lastProbeNanosecondsAgo")
        try check(probeFailureRate.isFinite && (0...1).contains(probeFailureRate), "probeFailureRate")
        // The open circuit's estimate remembers a number of calls that depends on the SLO.
        try check(probeCount.isFinite && probeCount >= 0 && probeCount <= ErrorPolicy(slo: slo).probeWindow,
                  "probeCount")
        try check((0...2).contains(limiterPhase), "limiterPhase")
        try check(limiterNanosecondsAgo >= 0, "limiterNanosecondsAgo")
        try check(limiterSpan.isFinite && limiterSpan >= 0, "limiterSpan")
        try check(limiterCheckpoint >= 0, "limiterCheckpoint")
        try check(limiterReference.isFinite && limiterReference >= 0, "limiterReference")
        try check(limiterAdjustments >= 0, "limiterAdjustments")
        try check(limit.isFinite && limit >= 0, "limit")
        try check((typicalLogLatency == nil) == (formatVersion < 2) && typicalLogLatency?.isFinite ?? true,
                  "the typical latency")
        try check((failedProbeStreak == nil) == (formatVersion < 3)
                  && (0...Int64(ErrorPolicy.maximumFloorDoublings)).contains(failedProbeStreak ?? 0)
                  && (errorMode == 2 || (failedProbeStreak ?? 0) == 0),
                  "the failed probe streak")
        try check((latencySetpointLog == nil) == (formatVersion < 4)
                  && (SetpointSearch.lowestLog...SetpointSearch.highestLog).contains(latencySetpointLog ?? SetpointSearch.initialLog),
                  "the latency setpoint")
        try check((recentArrivalRate == nil) == (formatVersion < 5)
                  && (recentArrivalRate ?? 0).isFinite && (recentArrivalRate ?? 0) >= 0,
                  "the recent arrival rate")
        try check((freshLookRate == nil) == (formatVersion < 5)
                  && (freshLookRate ?? 0).isFinite && (freshLookRate ?? 0) >= 0
                  && (errorMode == 2 || (freshLookRate ?? 0) == 0),
                  "the fresh look's rate")
    }
}

/// Why a snapshot could not be restored. The Levee is left exactly as it was.
public enum SnapshotError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The data is damaged, truncated or not a Levee snapshot.
    case corrupt(String)
    /// Written by a newer version of Levee.
    case unsupportedVersion(found: Int, supported: Int)
    /// Taken from a Levee with a different SLO: what it learned does not apply.
    case sloMismatch(snapshot: SLO?, levee: SLO)

    public var description: String {
        switch self {
        case .corrupt(let reason): "corrupt Levee snapshot: \(reason)"
        case .unsupportedVersion(let found, let supported):
            "Levee snapshot format \(found) is newer than this library reads (up to \(supported))"
        case .sloMismatch(let snapshot, let levee):
            "the snapshot was taken under \(snapshot.map(String.init(describing:)) ?? "an invalid SLO"), not this Levee's \(levee)"
        }
    }
}
