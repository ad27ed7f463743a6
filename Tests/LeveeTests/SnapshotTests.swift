import Foundation
import Testing
@testable import Levee

/// A JSON tree that keeps integers exact (a snapshot's checksum is a 64-bit integer, which
/// `JSONSerialization` would round through `Double`), so tests can alter one field of an encoded
/// snapshot and nothing else.
enum CoreJSON: Codable, Equatable {
    case int(Int64), uint(UInt64), double(Double), string(String), bool(Bool), null
    case array([CoreJSON]), object([String: CoreJSON])

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() { self = .null }
        else if let value = try? container.decode(Bool.self) { self = .bool(value) }
        else if let value = try? container.decode(Int64.self) { self = .int(value) }
        else if let value = try? container.decode(UInt64.self) { self = .uint(value) }
        else if let value = try? container.decode(Double.self) { self = .double(value) }
        else if let value = try? container.decode(String.self) { self = .string(value) }
        else if let value = try? container.decode([CoreJSON].self) { self = .array(value) }
        else { self = .object(try container.decode([String: CoreJSON].self)) }
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .int(let value): try container.encode(value)
        case .uint(let value): try container.encode(value)
        case .double(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        case .bool(let value): try container.encode(value)
        case .null: try container.encodeNil()
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }

    subscript(key: String) -> CoreJSON? {
        get { if case .object(let object) = self { object[key] } else { nil } }
        set {
            guard case .object(var object) = self else { return }
            object[key] = newValue
            self = .object(object)
        }
    }
}

extension LeveeSnapshot {
    var json: CoreJSON { get throws { try JSONDecoder().decode(CoreJSON.self, from: JSONEncoder().encode(self)) } }

    /// Decodes without validation (as any `Decodable` does), reading "nan", "inf" and "-inf" strings as numbers.
    static func decoding(_ json: CoreJSON) throws -> LeveeSnapshot {
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return try decoder.decode(LeveeSnapshot.self, from: JSONEncoder().encode(json))
    }

    /// Decodes `json` after replacing its checksum with the right one for its other fields, so
    /// only the values themselves are wrong.
    static func decodingWithValidChecksum(_ json: CoreJSON) throws -> LeveeSnapshot {
        let unchecked = try decoding(json)
        var fixed = json
        fixed["checksum"] = .uint(SnapshotCodec.checksum(of: unchecked))
        return try decoding(fixed)
    }
}

/// FNV-1a, as the binary format's checksum (over every byte between the magic and the checksum).
func coreFNV1a(_ bytes: ArraySlice<UInt8>) -> UInt64 {
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in bytes {
        hash ^= UInt64(byte)
        hash &*= 0x0000_0100_0000_01b3
    }
    return hash
}

@Suite struct SnapshotTests {
    static let slo = try! SLO(successRate: 0.99, timeout: .seconds(1))

    /// A Levee that has learned a healthy dependency (1 % failures would be too close: 0.2 %),
    /// 5 ms latency, 1,000 calls per second; nothing in flight.
    static func trained(seed: UInt64 = 1, options: Levee.Options = .init()) -> (Levee, CoreDriver) {
        let levee = Levee(slo: slo, options: options)
        var driver = CoreDriver(levee, seed: seed)
        driver.run(seconds: 5, rate: 1_000, call: CoreDriver.constant(failureRate: 0.002))
        driver.drain()
        return (levee, driver)
    }

    /// A trained Levee whose dependency then went down: open, nothing in flight.
    static func open(seed: UInt64 = 1) -> (Levee, CoreDriver) {
        var (levee, driver) = trained(seed: seed)
        driver.run(seconds: 2, rate: 1_000, call: CoreDriver.constant(failureRate: 1))
        driver.drain()
        return (levee, driver)
    }

    // MARK: Round trips

    @Test func codableJSONRoundTrip() throws {
        for (levee, _) in [Self.trained(), Self.open()] {
            let snapshot = levee.snapshot()
            let data = try JSONEncoder().encode(snapshot)
            let decoded = try JSONDecoder().decode(LeveeSnapshot.self, from: data)
            #expect(decoded == snapshot)
            #expect(decoded.checksum == snapshot.checksum)
            #expect(decoded.formatVersion == LeveeSnapshot.currentFormatVersion)
            #expect(decoded.slo == Self.slo)
            #expect(throws: Never.self) { try decoded.validate() }
        }
    }

    @Test func binaryRoundTrip() throws {
        for (levee, _) in [Self.trained(), Self.open()] {
            let snapshot = levee.snapshot()
            let bytes = snapshot.serialized()
            #expect(Array(bytes.prefix(8)) == Array("LEVEESNP".utf8))
            let decoded = try LeveeSnapshot(serialized: bytes)
            #expect(decoded == snapshot)
            #expect(decoded.serialized() == bytes)
        }
    }

    @Test func snapshotIsAPureReadAndDeterministic() {
        let (levee, _) = Self.trained()
        let before = levee.statistics
        let first = levee.snapshot()
        #expect(levee.snapshot() == first)
        #expect(levee.statistics == before)
        // Two Levees fed the same input take the same snapshot.
        let (twin, _) = Self.trained()
        #expect(twin.snapshot() == first)
        #expect(twin.snapshot().serialized() == first.serialized())
    }

    @Test func restoredLeveeReportsWhatTheOriginalLearned() throws {
        for (original, driver) in [Self.trained(), Self.open()] {
            let restored = Levee(slo: Self.slo)
            try restored.restore(from: original.snapshot().serialized(), at: driver.now)
            let expected = original.statistics
            let actual = restored.statistics
            #expect(actual.state == expected.state)
            #expect(actual.estimatedSuccessRate == expected.estimatedSuccessRate)
            #expect(actual.successRateInterval == expected.successRateInterval)
            #expect(actual.sampleCount == expected.sampleCount)
            #expect(actual.rejectionProbability == expected.rejectionProbability)
            #expect(actual.concurrencyLimit == expected.concurrencyLimit)
            #expect(actual.baselineLatencyNanoseconds == expected.baselineLatencyNanoseconds)
            #expect(actual.recentLatencyNanoseconds == expected.recentLatencyNanoseconds)
            #expect(actual.baselineThroughput == expected.baselineThroughput)
            #expect(actual.offeredRate == expected.offeredRate)
            #expect(actual.inFlight == 0)
            #expect(restored.snapshot() == original.snapshot())
        }
    }

    /// Restoring into a fresh Levee on the same time line: from then on, both decide alike.
    /// (Fails while the healthy arrival rate and the traffic tick phase, which now set the probe
    /// budget, are left out of the snapshot.)
    @Test func restoredLeveeMakesTheSameDecisionsAsTheOriginal() throws {
        var (original, originalDriver) = Self.trained(seed: 4)
        let restored = Levee(slo: Self.slo)
        let recorders = (CoreTransitionRecorder(), CoreTransitionRecorder())
        original.addObserver(recorders.0)
        restored.addObserver(recorders.1)
        try restored.restore(from: original.snapshot(), at: originalDriver.now)
        var restoredDriver = CoreDriver(restored, seed: 99, start: originalDriver.now)
        originalDriver.rng = SplitMix64(seed: 99)

        // Healthy, partially degraded, down, healthy again: every decision must agree.
        var decisions: ([String], [String]) = ([], [])
        func describe(_ admission: Admission) -> String {
            switch admission {
            case .admitted(let permit): permit.isProbe ? "probe" : "admitted"
            case .rejected(let rejection): "\(rejection)"
            }
        }
        for failureRate in [0.002, 0.02, 1, 0.002] {
            originalDriver.run(seconds: 10, rate: 1_000, call: CoreDriver.constant(failureRate: failureRate)) { admission, _ in
                decisions.0.append(describe(admission))
            }
            restoredDriver.run(seconds: 10, rate: 1_000, call: CoreDriver.constant(failureRate: failureRate)) { admission, _ in
                decisions.1.append(describe(admission))
            }
        }
        #expect(decisions.0.count == decisions.1.count)
        let firstDifference = zip(decisions.0, decisions.1).enumerated().first { $0.element.0 != $0.element.1 }
        #expect(firstDifference == nil, "decisions differ from call \(firstDifference?.offset ?? -1)")
        #expect(recorders.0.changes == recorders.1.changes)
        #expect(recorders.0.changes.count >= 2)  // the scenario exercises transitions
        // Counters restart with the restored instance, and the completion rate is averaged on ticks
        // anchored at the restore instant (a phase difference, not a decision): compare the rest.
        var expected = original.statistics
        var actual = restored.statistics
        #expect(abs(actual.baselineThroughput - expected.baselineThroughput) <= 1e-3 * expected.baselineThroughput)
        expected.counters = .init()
        actual.counters = .init()
        actual.baselineThroughput = expected.baselineThroughput
        #expect(actual == expected)
    }

    /// Restoring an open circuit: the restored Levee keeps it open, keeps probing on the same
    /// budget and recovers like the original once the dependency heals.
    @Test func restoredOpenCircuitBehavesLikeTheOriginal() throws {
        var (original, originalDriver) = Self.open(seed: 2)
        let recorders = (CoreTransitionRecorder(), CoreTransitionRecorder())
        original.addObserver(recorders.0)
        let restored = Levee(slo: Self.slo)
        restored.addObserver(recorders.1)
        try restored.restore(from: original.snapshot(), at: originalDriver.now)
        #expect(restored.state == .open)
        #expect(recorders.1.changes == [StateChange(from: .closed, to: .open, reason: .restored, at: originalDriver.now)])
        var restoredDriver = CoreDriver(restored, seed: 5, start: originalDriver.now)
        originalDriver.rng = SplitMix64(seed: 5)
        let outage = (originalDriver.run(seconds: 10, rate: 1_000, call: CoreDriver.constant(failureRate: 1)),
                      restoredDriver.run(seconds: 10, rate: 1_000, call: CoreDriver.constant(failureRate: 1)))
        #expect(abs(outage.0.admitted - outage.1.admitted) <= 2)
        #expect(outage.1.admittedShare <= 1.5 * ErrorPolicy.baseProbeFraction)
        let healedAt = originalDriver.now
        originalDriver.run(seconds: 20, rate: 1_000, call: CoreDriver.constant(failureRate: 0.002))
        restoredDriver.run(seconds: 20, rate: 1_000, call: CoreDriver.constant(failureRate: 0.002))
        let recovered = (try #require(recorders.0.changes.last), try #require(recorders.1.changes.last))
        #expect(recovered.0.to == .closed && recovered.1.to == .closed)
        #expect(recovered.1.reason == .recovered)
        #expect(recovered.1.at > healedAt)
        #expect(abs(recovered.0.at - recovered.1.at) <= coreSecond)
    }

    /// The probe schedule (admission credit, last probe) is not part of a snapshot, so right after
    /// restoring an open circuit the restored Levee probes at other calls than the original.
    @Test func restoredOpenCircuitProbesOnTheSameSchedule() throws {
        var (original, originalDriver) = Self.open(seed: 2)
        let restored = Levee(slo: Self.slo)
        try restored.restore(from: original.snapshot(), at: originalDriver.now)
        var restoredDriver = CoreDriver(restored, seed: 5, start: originalDriver.now)
        originalDriver.rng = SplitMix64(seed: 5)
        var probes: ([Int64], [Int64]) = ([], [])
        originalDriver.run(seconds: 5, rate: 1_000, call: CoreDriver.constant(failureRate: 1)) { admission, at in
            if admission.permit != nil { probes.0.append(at) }
        }
        restoredDriver.run(seconds: 5, rate: 1_000, call: CoreDriver.constant(failureRate: 1)) { admission, at in
            if admission.permit != nil { probes.1.append(at) }
        }
        #expect(probes.0 == probes.1)
    }

    @Test func restoreReplacesStateAndNotifies() throws {
        let (open, openDriver) = Self.open()
        let (closed, _) = Self.trained()
        let recorder = CoreTransitionRecorder()
        closed.addObserver(recorder)
        let instant = openDriver.now + coreSecond
        try closed.restore(from: open.snapshot(), at: instant)
        #expect(closed.state == .open)
        #expect(recorder.changes == [StateChange(from: .closed, to: .open, reason: .restored, at: instant)])
        try closed.restore(from: Self.trained().0.snapshot(), at: instant)
        #expect(closed.state == .closed)
        #expect(recorder.changes.last == StateChange(from: .open, to: .closed, reason: .restored, at: instant))
        // Restoring the state it is already in announces nothing.
        try closed.restore(from: closed.snapshot(), at: instant)
        #expect(recorder.changes.count == 2)
    }

    /// `LeveeStatistics.counters` is documented as "running totals since creation (or restore)".
    /// Counters count what this instance did (documented on `LeveeStatistics.counters`), so a
    /// restore, which replaces what it learned, leaves them alone.
    @Test func countersSurviveARestore() throws {
        let (levee, driver) = Self.trained()
        let before = levee.statistics.counters
        #expect(before.admitted > 0)
        try levee.restore(from: levee.snapshot(), at: driver.now)
        let after = levee.statistics.counters
        #expect(after.admitted == before.admitted && after.successes == before.successes)
        #expect(after.failures == before.failures)
    }

    @Test func restoreAnchorsAtTheLatestInstantByDefault() throws {
        let (levee, driver) = Self.trained()
        try levee.restore(from: levee.snapshot())
        #expect(throws: LeveeError.timeWentBackwards(instant: driver.now - 1, latest: driver.now)) {
            try levee.acquire(at: driver.now - 1)
        }
        #expect(try levee.acquire(at: driver.now).permit != nil)
    }

    /// A Levee that has processed nothing anchors a restore at its clock's reading: with explicit
    /// time, pass the instant (as `restore(from:at:)` documents).
    @Test func restoreIntoAFreshLeveeAnchorsAtTheClock() throws {
        let clock = CoreManualClock()
        let levee = Levee(slo: Self.slo, options: .init(clock: LeveeClock(clock)))
        clock.advance(by: .seconds(5))
        try levee.restore(from: Self.trained().0.snapshot())
        #expect(throws: LeveeError.timeWentBackwards(instant: 0, latest: 5 * coreSecond)) {
            try levee.acquire(at: 0)
        }
        let explicit = Levee(slo: Self.slo, options: .init(clock: LeveeClock(clock)))
        try explicit.restore(from: Self.trained().0.snapshot(), at: 0)
        #expect(try explicit.acquire(at: 0).permit != nil)
    }

    // MARK: Bad input leaves the Levee exactly as it was

    /// Everything observable about a Levee, to check that a failed restore changed nothing.
    struct Fingerprint: Equatable {
        let statistics: LeveeStatistics
        let state: LeveeState
        let snapshot: LeveeSnapshot
        init(_ levee: Levee) {
            statistics = levee.statistics
            state = levee.state
            snapshot = levee.snapshot()
        }
    }

    /// Restores `bytes` into a Levee with a permit in flight; returns the error, after checking
    /// that nothing changed (not even the permit).
    static func failedRestore(_ attempt: (Levee) throws(SnapshotError) -> Void,
                              sourceLocation: SourceLocation = #_sourceLocation) -> SnapshotError? {
        let (levee, driver) = Self.open()
        let recorder = CoreTransitionRecorder()
        levee.addObserver(recorder)
        // A probe in flight while the restore fails (the open circuit admits one within its budget).
        var now = driver.now
        var permit: Permit?
        while permit == nil, now < driver.now + 60 * coreSecond {
            now += coreMillisecond
            permit = (try? levee.acquire(at: now))?.permit
        }
        #expect(permit != nil, sourceLocation: sourceLocation)
        let before = Fingerprint(levee)
        var thrown: SnapshotError?
        do { try attempt(levee) } catch { thrown = error }
        #expect(thrown != nil, "the restore must fail", sourceLocation: sourceLocation)
        #expect(Fingerprint(levee) == before, sourceLocation: sourceLocation)
        #expect(recorder.changes.isEmpty, sourceLocation: sourceLocation)
        if let permit {
            // The permit issued before the failed restore is still live.
            try? levee.release(permit, outcome: .failure, at: now + 1)
            #expect(levee.statistics.counters.staleReleases == 0, sourceLocation: sourceLocation)
        }
        return thrown
    }

    static func isCorrupt(_ error: SnapshotError?) -> Bool {
        if case .corrupt? = error { true } else { false }
    }

    @Test func flippingAnyByteIsDetected() throws {
        let bytes = Self.trained().0.snapshot().serialized()
        let (levee, _) = Self.open()
        let before = Fingerprint(levee)
        for index in bytes.indices {
            var damaged = bytes
            damaged[index] ^= 0xFF
            var thrown: SnapshotError?
            do { try levee.restore(from: damaged) } catch { thrown = error }
            if (8..<10).contains(index) {
                // The version field: a damaged version reads as another format.
                #expect(thrown != nil, "byte \(index)")
            } else {
                #expect(Self.isCorrupt(thrown), "byte \(index): \(String(describing: thrown))")
            }
            #expect(throws: SnapshotError.self) { try LeveeSnapshot(serialized: damaged) }
        }
        #expect(Fingerprint(levee) == before)
        // Single-bit damage too, in every byte between the magic and the checksum.
        for index in 10..<(bytes.count - 8) {
            for bit in 0..<8 {
                var damaged = bytes
                damaged[index] ^= UInt8(1 << bit)
                #expect(throws: SnapshotError.self) { try levee.restore(from: damaged) }
            }
        }
        #expect(Fingerprint(levee) == before)
    }

    @Test func flippingOneByteInTheMiddleIsCorrupt() {
        let bytes = Self.trained().0.snapshot().serialized()
        let error = Self.failedRestore { levee throws(SnapshotError) in
            var damaged = bytes
            damaged[bytes.count / 2] ^= 0x01
            try levee.restore(from: damaged)
        }
        #expect(Self.isCorrupt(error))
        #expect(error?.description.contains("checksum") == true)
    }

    @Test func everyTruncationIsCorrupt() {
        let bytes = Self.trained().0.snapshot().serialized()
        let (levee, _) = Self.open()
        let before = Fingerprint(levee)
        for length in 0..<bytes.count {
            var thrown: SnapshotError?
            do { try levee.restore(from: Array(bytes.prefix(length))) } catch { thrown = error }
            #expect(Self.isCorrupt(thrown), "prefix of \(length) bytes: \(String(describing: thrown))")
        }
        #expect(Fingerprint(levee) == before)
        let error = Self.failedRestore { levee throws(SnapshotError) in try levee.restore(from: Array(bytes.dropLast())) }
        #expect(error?.description.contains("truncated") == true)
    }

    @Test func trailingBytesAreCorrupt() {
        let bytes = Self.trained().0.snapshot().serialized()
        let error = Self.failedRestore { levee throws(SnapshotError) in try levee.restore(from: bytes + [0]) }
        #expect(Self.isCorrupt(error))
    }

    @Test func foreignDataIsCorrupt() {
        let bytes = Self.trained().0.snapshot().serialized()
        var rng = SplitMix64(seed: 42)
        let (levee, _) = Self.open()
        let before = Fingerprint(levee)
        for length in [1, 7, 8, 9, 10, 64, bytes.count - 1, bytes.count, bytes.count + 1, 4_096] {
            for _ in 0..<20 {
                let random = (0..<length).map { _ in UInt8.random(in: 0...255, using: &rng) }
                var thrown: SnapshotError?
                do { try levee.restore(from: random) } catch { thrown = error }
                #expect(Self.isCorrupt(thrown), "\(length) random bytes: \(String(describing: thrown))")
            }
        }
        // The right magic, version and length, but random contents: the checksum catches it.
        for _ in 0..<50 {
            var forged = bytes
            for index in 10..<bytes.count { forged[index] = UInt8.random(in: 0...255, using: &rng) }
            var thrown: SnapshotError?
            do { try levee.restore(from: forged) } catch { thrown = error }
            #expect(Self.isCorrupt(thrown))
        }
        let text = Array(#"{"successRate":0.99,"timeoutNanoseconds":1000000000}"#.utf8)
        #expect(throws: SnapshotError.self) { try levee.restore(from: text) }
        #expect(throws: SnapshotError.self) { try levee.restore(from: [UInt8]()) }
        #expect(Fingerprint(levee) == before)
    }

    @Test func badMagicIsCorrupt() {
        var bytes = Self.trained().0.snapshot().serialized()
        bytes[7] = UInt8(ascii: "Q")
        let error = Self.failedRestore { levee throws(SnapshotError) in try levee.restore(from: bytes) }
        #expect(Self.isCorrupt(error))
        #expect(error?.description.contains("magic") == true)
    }

    @Test func newerBinaryFormatIsUnsupported() {
        var bytes = Self.trained().0.snapshot().serialized()
        let newer = UInt16(LeveeSnapshot.currentFormatVersion + 1)
        bytes[8] = UInt8(newer & 0xFF)
        bytes[9] = UInt8(newer >> 8)
        let checksum = coreFNV1a(bytes[8..<(bytes.count - 8)])
        for index in 0..<8 { bytes[bytes.count - 8 + index] = UInt8((checksum >> (8 * UInt64(index))) & 0xFF) }
        let error = Self.failedRestore { levee throws(SnapshotError) in try levee.restore(from: bytes) }
        #expect(error == .unsupportedVersion(found: Int(newer), supported: LeveeSnapshot.currentFormatVersion))
        #expect(error?.description.contains("newer") == true)
    }

    @Test func versionZeroWithAValidChecksumIsCorrupt() {
        var bytes = Self.trained().0.snapshot().serialized()
        bytes[8] = 0
        bytes[9] = 0
        let checksum = coreFNV1a(bytes[8..<(bytes.count - 8)])
        for index in 0..<8 { bytes[bytes.count - 8 + index] = UInt8((checksum >> (8 * UInt64(index))) & 0xFF) }
        let error = Self.failedRestore { levee throws(SnapshotError) in try levee.restore(from: bytes) }
        #expect(Self.isCorrupt(error))
    }

    /// `current` re-encoded as an older format `version`: the fields that format lacks (the last
    /// `missingBytes` before the checksum) removed, the version relabelled, the checksum recomputed.
    static func reencoded(_ current: [UInt8], asVersion version: UInt8, missingBytes: Int) -> [UInt8] {
        var bytes = Array(current[..<(current.count - 8 - missingBytes)])
        bytes[8] = version
        bytes[9] = 0
        let checksum = coreFNV1a(bytes[8...])
        for index in 0..<8 { bytes.append(UInt8((checksum >> (8 * UInt64(index))) & 0xFF)) }
        return bytes
    }

    /// Format 1 had no typical latency: such a snapshot still restores, with the baseline standing
    /// in for it, and so does one that claims format 1 but carries the newer field (refused as corrupt).
    @Test func formatOneSnapshotRestoresWithTheBaselineAsTypicalLatency() throws {
        let (source, _) = Self.trained()
        let current = source.snapshot().serialized()
        // Format 1 lacks the typical latency, the probe streak, the latency setpoint, the recent
        // arrival rate and the fresh look, the last fields before the checksum.
        let bytes = Self.reencoded(current, asVersion: 1, missingBytes: 40)
        let old = try LeveeSnapshot(serialized: bytes)
        #expect(old.formatVersion == 1)
        #expect(old.typicalLogLatency == nil)
        let restored = Levee(slo: source.slo)
        try restored.restore(from: bytes, at: 0)
        #expect(restored.statistics.baselineLatencyNanoseconds == source.statistics.baselineLatencyNanoseconds)

        var mislabelled = current
        mislabelled[8] = 1
        let relabelled = coreFNV1a(mislabelled[8..<(mislabelled.count - 8)])
        for index in 0..<8 { mislabelled[mislabelled.count - 8 + index] = UInt8((relabelled >> (8 * UInt64(index))) & 0xFF) }
        let error = Self.failedRestore { levee throws(SnapshotError) in try levee.restore(from: mislabelled) }
        #expect(Self.isCorrupt(error))
    }

    /// `snapshot` re-encoded as the older format `version` (see ``reencoded(_:asVersion:missingBytes:)``),
    /// read back, and restored into a new Levee at `instant`.
    static func restoredAsOlderFormat(_ snapshot: LeveeSnapshot, version: UInt8, missingBytes: Int,
                                      at instant: Int64) throws -> (LeveeSnapshot, Levee) {
        let bytes = reencoded(snapshot.serialized(), asVersion: version, missingBytes: missingBytes)
        let old = try LeveeSnapshot(serialized: bytes)
        #expect(old.formatVersion == Int(version))
        let restored = Levee(slo: try #require(snapshot.slo))
        try restored.restore(from: bytes, at: instant)
        return (old, restored)
    }

    /// Format 2 had no streak of failed probes: such a snapshot of an open circuit restores it open,
    /// with no streak (probing at the undoubled floor).
    @Test func formatTwoSnapshotRestoresAnOpenCircuitWithoutAFailedProbeStreak() throws {
        let (source, driver) = Self.open()
        let snapshot = source.snapshot()
        #expect(snapshot.failedProbeStreak == Int64(ErrorPolicy.maximumFloorDoublings))
        let (old, restored) = try Self.restoredAsOlderFormat(snapshot, version: 2, missingBytes: 32, at: driver.now)
        #expect(old.failedProbeStreak == nil)
        #expect(old.typicalLogLatency == snapshot.typicalLogLatency)
        #expect(restored.state == .open)
        #expect(restored.snapshot().failedProbeStreak == 0)
    }

    /// Format 3 had no latency setpoint: such a snapshot restores the search at its start, 1.5.
    @Test func formatThreeSnapshotRestoresTheInitialLatencySetpoint() throws {
        let snapshot = Self.trained().0.snapshot()
        let (old, restored) = try Self.restoredAsOlderFormat(snapshot, version: 3, missingBytes: 24, at: 0)
        #expect(old.latencySetpointLog == nil)
        #expect(old.failedProbeStreak == snapshot.failedProbeStreak)
        #expect(restored.statistics.latencySetpoint == naturalExp(SetpointSearch.initialLog))
        #expect(restored.snapshot().latencySetpointLog == SetpointSearch.initialLog)
    }

    /// Format 4 had no recent arrival rate and no fresh look: such a snapshot restores the recent
    /// rate as the one-second average (no fall under way) and an open circuit with no look.
    @Test func formatFourSnapshotRestoresNoFallAndNoFreshLook() throws {
        let (source, driver) = Self.open()
        let snapshot = source.snapshot()
        let (old, restored) = try Self.restoredAsOlderFormat(snapshot, version: 4, missingBytes: 16, at: driver.now)
        #expect(old.recentArrivalRate == nil && old.freshLookRate == nil)
        #expect(old.latencySetpointLog == snapshot.latencySetpointLog)
        #expect(restored.state == .open)
        let restoredSnapshot = restored.snapshot()
        #expect(restoredSnapshot.recentArrivalRate == snapshot.arrivalRate)
        #expect(restoredSnapshot.freshLookRate == 0)
    }

    @Test func newerJSONFormatIsUnsupported() throws {
        var json = try Self.trained().0.snapshot().json
        json["formatVersion"] = .int(Int64(LeveeSnapshot.currentFormatVersion + 1))
        let snapshot = try LeveeSnapshot.decodingWithValidChecksum(json)
        let error = Self.failedRestore { levee throws(SnapshotError) in try levee.restore(from: snapshot) }
        #expect(error == .unsupportedVersion(found: LeveeSnapshot.currentFormatVersion + 1,
                                             supported: LeveeSnapshot.currentFormatVersion))
    }

    @Test(arguments: [
        try! SLO(successRate: 0.9, timeout: .seconds(1)),
        try! SLO(successRate: 0.99, timeout: .seconds(2)),
        try! SLO(successRate: 0.999, timeout: .milliseconds(100)),
    ])
    func snapshotFromAnotherSLOIsRefused(other: SLO) {
        let foreign = Levee(slo: other)
        var driver = CoreDriver(foreign)
        driver.run(seconds: 1, rate: 1_000, call: CoreDriver.constant(failureRate: 0))
        let snapshot = foreign.snapshot()
        let error = Self.failedRestore { levee throws(SnapshotError) in try levee.restore(from: snapshot) }
        #expect(error == .sloMismatch(snapshot: other, levee: Self.slo))
        #expect(error?.description.contains("\(other)") == true)
        let binary = Self.failedRestore { levee throws(SnapshotError) in try levee.restore(from: snapshot.serialized()) }
        #expect(binary == .sloMismatch(snapshot: other, levee: Self.slo))
    }

    @Test func roundTripThroughTheJSONMirrorIsFaithful() throws {
        let snapshot = Self.trained().0.snapshot()
        #expect(try LeveeSnapshot.decoding(snapshot.json) == snapshot)
    }

    /// Any altered field of a JSON snapshot fails the checksum.
    @Test func alteredJSONFieldFailsTheChecksum() throws {
        let original = try Self.trained().0.snapshot().json
        guard case .object(let fields) = original else {
            Issue.record("a snapshot encodes as a JSON object")
            return
        }
        var altered = 0
        for (key, value) in fields where key != "checksum" && key != "formatVersion" {
            let changed: CoreJSON
            switch value {
            case .double(let number): changed = .double(number == 0 ? 1e-3 : number * 1.001)
            case .int(let number): changed = .int(number &+ 1)
            case .uint(let number): changed = .uint(number &+ 1)
            case .array(let items):
                guard let first = items.first else { continue }
                let bumped: CoreJSON = switch first {
                case .double(let number): .double(number + 0.001)
                case .int(let number): .int(number + 1)
                default: first
                }
                changed = .array([bumped] + items.dropFirst())
            default: continue
            }
            var json = original
            json[key] = changed
            let snapshot = try LeveeSnapshot.decoding(json)
            let error = Self.failedRestore { levee throws(SnapshotError) in try levee.restore(from: snapshot) }
            #expect(Self.isCorrupt(error), "altered \(key): \(String(describing: error))")
            #expect(error?.description.contains("checksum") == true, "altered \(key)")
            altered += 1
        }
        #expect(altered >= 10)
    }

    /// Values no Levee could have written are refused even with a matching checksum.
    @Test(arguments: [
        ("successRate", CoreJSON.double(1.5)),
        ("successRate", .double(0)),
        ("timeoutNanoseconds", .int(0)),
        ("timeoutNanoseconds", .int(-5)),
        ("outcomeRates", .array([.double(1.5), .double(0), .double(0), .double(0), .double(0)])),
        ("outcomeRates", .array([.double(0), .double(0)])),
        ("outcomeCounts", .array([.double(-1), .double(0), .double(0), .double(0), .double(0)])),
        ("outcomeCounts", .array([.double(1e9), .double(0), .double(0), .double(0), .double(0)])),
        ("detectorState", .array([.double(0)])),
        ("errorMode", .int(3)),
        ("errorMode", .int(-1)),
        ("rejectionProbability", .double(1.5)),
        ("rejectionProbability", .double(-0.1)),
        ("openedNanosecondsAgo", .int(-1)),
        ("recoveryEvidence", .double(-1)),
        ("baselineSamples", .double(-1)),
        ("recentSamples", .double(-3)),
        ("arrivalRate", .double(-1)),
        ("completionRate", .double(-2)),
        ("failedProbeStreak", .int(-1)),
        ("failedProbeStreak", .int(Int64(ErrorPolicy.maximumFloorDoublings + 1))),
        ("failedProbeStreak", .int(1)),  // a streak while closed
        ("latencySetpointLog", .double(0)),  // below the search's range
        ("latencySetpointLog", .double(1)),  // above it
        ("recentArrivalRate", .double(-1)),
        ("freshLookRate", .double(-1)),
        ("freshLookRate", .double(100)),  // a fresh look while closed
    ])
    func outOfRangeValuesAreCorrupt(key: String, value: CoreJSON) throws {
        var json = try Self.trained().0.snapshot().json
        try #require(json[key] != nil, "the snapshot has no field \(key)")
        json[key] = value
        let snapshot = try LeveeSnapshot.decodingWithValidChecksum(json)
        let error = Self.failedRestore { levee throws(SnapshotError) in try levee.restore(from: snapshot) }
        #expect(Self.isCorrupt(error), "\(key) = \(value): \(String(describing: error))")
    }

    /// JSON cannot carry NaN or infinities by default; a decoder that reads them from strings can.
    @Test func nonFiniteValuesAreCorrupt() throws {
        let json = try Self.trained().0.snapshot().json
        guard case .object(let fields) = json else {
            Issue.record("a snapshot encodes as a JSON object")
            return
        }
        var checked = 0
        for (key, value) in fields.sorted(by: { $0.key < $1.key }) {
            for special in ["nan", "inf", "-inf"] {
                var damaged = json
                switch value {
                case .double: damaged[key] = .string(special)
                case .array(let items) where !items.isEmpty: damaged[key] = .array([.string(special)] + items.dropFirst())
                default: continue
                }
                let snapshot = try LeveeSnapshot.decodingWithValidChecksum(damaged)
                let error = Self.failedRestore { levee throws(SnapshotError) in try levee.restore(from: snapshot) }
                #expect(Self.isCorrupt(error), "\(key) = \(special): \(String(describing: error))")
                #expect(throws: SnapshotError.self, "\(key) = \(special) in binary form") {
                    try LeveeSnapshot(serialized: snapshot.serialized())
                }
                checked += 1
            }
        }
        #expect(checked >= 20)
    }

    @Test func failedRestoresLeaveDecisionsUnchanged() throws {
        // Two identical Levees; one suffers a barrage of bad restores; both then see the same input.
        var (target, targetDriver) = Self.open(seed: 8)
        var (twin, twinDriver) = Self.open(seed: 8)
        let bytes = Self.trained().0.snapshot().serialized()
        for length in stride(from: 0, to: bytes.count, by: 7) { _ = try? target.restore(from: Array(bytes.prefix(length))) }
        for index in stride(from: 10, to: bytes.count, by: 3) {
            var damaged = bytes
            damaged[index] ^= 0x5A
            _ = try? target.restore(from: damaged)
        }
        _ = try? target.restore(from: Levee(slo: try SLO(successRate: 0.5, timeout: .seconds(1))).snapshot())
        var decisions: ([Bool], [Bool]) = ([], [])
        targetDriver.run(seconds: 20, rate: 1_000, call: CoreDriver.constant(failureRate: 0.002)) { admission, _ in
            decisions.0.append(admission.permit != nil)
        }
        twinDriver.run(seconds: 20, rate: 1_000, call: CoreDriver.constant(failureRate: 0.002)) { admission, _ in
            decisions.1.append(admission.permit != nil)
        }
        #expect(decisions.0 == decisions.1)
        #expect(target.statistics == twin.statistics)
    }
}
