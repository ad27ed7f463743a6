/// The binary form of a ``LeveeSnapshot`` and its checksum. No Foundation: bytes in, bytes out.
enum SnapshotCodec {
    static let magic: [UInt8] = Array("LEVEESNP".utf8)

    /// Every field but the checksum, in a fixed order, little-endian.
    static func fieldBytes(of snapshot: LeveeSnapshot) -> [UInt8] {
        var writer = Writer()
        writer.integer(UInt16(clamping: snapshot.formatVersion))
        writer.double(snapshot.successRate)
        writer.integer(snapshot.timeoutNanoseconds)
        writer.doubles(snapshot.outcomeRates)
        writer.doubles(snapshot.outcomeCounts)
        writer.doubles(snapshot.detectorState)
        writer.integer(UInt8(clamping: snapshot.errorMode))
        writer.double(snapshot.rejectionProbability)
        writer.integer(snapshot.openedNanosecondsAgo)
        writer.double(snapshot.recoveryEvidence)
        writer.double(snapshot.baselineLogLatency)
        writer.double(snapshot.baselineSamples)
        writer.double(snapshot.recentLogLatency)
        writer.double(snapshot.recentSamples)
        writer.double(snapshot.arrivalRate)
        writer.double(snapshot.completionRate)
        writer.double(snapshot.healthyArrivalRate)
        writer.integer(snapshot.tickAgeNanoseconds)
        writer.integer(snapshot.tickArrivals)
        writer.integer(snapshot.tickCompletions)
        writer.integer(snapshot.successesSinceEvaluation)
        writer.double(snapshot.probeCredit)
        writer.integer(snapshot.lastProbeNanosecondsAgo)
        writer.double(snapshot.probeFailureRate)
        writer.double(snapshot.probeCount)
        writer.integer(snapshot.limiterPhase)
        writer.integer(snapshot.limiterNanosecondsAgo)
        writer.double(snapshot.limiterSpan)
        writer.integer(snapshot.limiterCheckpoint)
        writer.double(snapshot.limiterReference)
        writer.integer(snapshot.limiterAdjustments)
        writer.double(snapshot.limit)
        if let typical = snapshot.typicalLogLatency { writer.double(typical) }
        if let streak = snapshot.failedProbeStreak { writer.integer(streak) }
        if let setpoint = snapshot.latencySetpointLog { writer.double(setpoint) }
        if let recent = snapshot.recentArrivalRate { writer.double(recent) }
        if let look = snapshot.freshLookRate { writer.double(look) }
        return writer.bytes
    }

    static func checksum(of snapshot: LeveeSnapshot) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in fieldBytes(of: snapshot) {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01b3
        }
        return hash
    }

    static func encode(_ snapshot: LeveeSnapshot) -> [UInt8] {
        var writer = Writer()
        writer.bytes = magic
        writer.bytes += fieldBytes(of: snapshot)
        writer.integer(snapshot.checksum)
        return writer.bytes
    }

    static func decode(_ bytes: [UInt8]) throws(SnapshotError) -> LeveeSnapshot {
        var reader = Reader(bytes: bytes)
        guard try reader.take(magic.count) == magic else { throw .corrupt("not a Levee snapshot (bad magic)") }
        let version = Int(try reader.integer(UInt16.self))
        guard version <= LeveeSnapshot.currentFormatVersion else {
            throw .unsupportedVersion(found: version, supported: LeveeSnapshot.currentFormatVersion)
        }
        let scales = OutcomeEstimator.scaleCount
        let snapshot = LeveeSnapshot(
            formatVersion: version,
            successRate: try reader.double(),
            timeoutNanoseconds: try reader.integer(Int64.self),
            outcomeRates: try reader.doubles(scales),
            outcomeCounts: try reader.doubles(scales),
            detectorState: try reader.doubles(18),
            errorMode: Int(try reader.integer(UInt8.self)),
            rejectionProbability: try reader.double(),
            openedNanosecondsAgo: try reader.integer(Int64.self),
            recoveryEvidence: try reader.double(),
            baselineLogLatency: try reader.double(),
            baselineSamples: try reader.double(),
            recentLogLatency: try reader.double(),
            recentSamples: try reader.double(),
            arrivalRate: try reader.double(),
            completionRate: try reader.double(),
            healthyArrivalRate: try reader.double(),
            tickAgeNanoseconds: try reader.integer(Int64.self),
            tickArrivals: try reader.integer(Int64.self),
            tickCompletions: try reader.integer(Int64.self),
            successesSinceEvaluation: try reader.integer(Int64.self),
            probeCredit: try reader.double(),
            lastProbeNanosecondsAgo: try reader.integer(Int64.self),
            probeFailureRate: try reader.double(),
            probeCount: try reader.double(),
            limiterPhase: try reader.integer(Int64.self),
            limiterNanosecondsAgo: try reader.integer(Int64.self),
            limiterSpan: try reader.double(),
            limiterCheckpoint: try reader.integer(Int64.self),
            limiterReference: try reader.double(),
            limiterAdjustments: try reader.integer(Int64.self),
            limit: try reader.double(),
            typicalLogLatency: version >= 2 ? try reader.double() : nil,
            failedProbeStreak: version >= 3 ? try reader.integer(Int64.self) : nil,
            latencySetpointLog: version >= 4 ? try reader.double() : nil,
            recentArrivalRate: version >= 5 ? try reader.double() : nil,
            freshLookRate: version >= 5 ? try reader.double() : nil,
            checksum: try reader.integer(UInt64.self))
        guard reader.isAtEnd else { throw .corrupt("\(bytes.count - reader.offset) unexpected trailing bytes") }
        return snapshot
    }

    struct Writer {
        var bytes: [UInt8] = []
        mutating func integer<T: FixedWidthInteger>(_ value: T) {
            withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
        }
        mutating func double(_ value: Double) { integer(value.bitPattern) }
        mutating func doubles(_ values: [Double]) { for value in values { double(value) } }
    }

    struct Reader {
        let bytes: [UInt8]
        var offset = 0
        var isAtEnd: Bool { offset == bytes.count }

        mutating func take(_ count: Int) throws(SnapshotError) -> [UInt8] {
            guard bytes.count - offset >= count else {
                throw .corrupt("truncated: \(bytes.count) bytes, more expected at offset \(offset)")
            }
            defer { offset += count }
            return Array(bytes[offset..<offset + count])
        }

        mutating func integer<T: FixedWidthInteger>(_: T.Type) throws(SnapshotError) -> T {
            let raw = try take(MemoryLayout<T>.size)
            var value: T = 0
            for (index, byte) in raw.enumerated() { value |= T(truncatingIfNeeded: byte) << (8 * index) }
            return value
        }

        mutating func double() throws(SnapshotError) -> Double { Double(bitPattern: try integer(UInt64.self)) }

        mutating func doubles(_ count: Int) throws(SnapshotError) -> [Double] {
            var values: [Double] = []
            values.reserveCapacity(count)
            for _ in 0..<count { values.append(try double()) }
            return values
        }
    }
}
