/// The only configuration a ``Levee`` needs: a success-rate target and a timeout.
///
/// Everything else (trip thresholds, evaluation windows, probe rates, open durations, the
/// concurrency limit) is derived from these two numbers and from live traffic.
public struct SLO: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The fraction of calls that must succeed, strictly between 0 and 1 (for example `0.99`).
    public let successRate: Double
    /// How long a call may take, in whole nanoseconds (longer timeouts saturate at `Int64.max` ns). ``Levee/run(classify:_:)`` can enforce it, and it
    /// scales the controller's notion of "a long time" for a dependency.
    public let timeout: Duration

    /// Creates an SLO, rejecting values that cannot describe one.
    ///
    /// - Throws: ``SLOError`` when `successRate` is NaN or outside the open interval (0, 1), or
    ///   when `timeout` is not positive. Nothing is clamped.
    public init(successRate: Double, timeout: Duration) throws(SLOError) {
        guard successRate.isFinite, successRate > 0, successRate < 1 else {
            throw .invalidSuccessRate(successRate)
        }
        // Levee works in whole nanoseconds: normalise, so that encoding, snapshots and equality agree.
        let nanoseconds = timeout.nanoseconds
        guard timeout > .zero, nanoseconds > 0 else { throw .nonPositiveTimeout(timeout) }
        self.successRate = successRate
        self.timeout = .nanoseconds(nanoseconds)
    }

    /// The error rate the SLO tolerates: `1 - successRate`.
    public var errorBudget: Double { 1 - successRate }

    /// The timeout in integer nanoseconds, the unit of every explicit instant.
    public var timeoutNanoseconds: Int64 { timeout.nanoseconds }

    public var description: String { "SLO(successRate: \(successRate), timeout: \(timeout))" }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let rate = try container.decode(Double.self, forKey: .successRate)
        let nanos = try container.decode(Int64.self, forKey: .timeoutNanoseconds)
        do {
            try self.init(successRate: rate, timeout: .nanoseconds(nanos))
        } catch {
            throw DecodingError.dataCorruptedError(
                forKey: .successRate, in: container, debugDescription: error.description)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(successRate, forKey: .successRate)
        try container.encode(timeoutNanoseconds, forKey: .timeoutNanoseconds)
    }

    private enum CodingKeys: String, CodingKey {
        case successRate
        case timeoutNanoseconds
    }
}

/// Why an ``SLO`` could not be created.
public enum SLOError: Error, Hashable, CustomStringConvertible {
    case invalidSuccessRate(Double)
    case nonPositiveTimeout(Duration)

    public var description: String {
        switch self {
        case .invalidSuccessRate(let rate):
            "SLO success rate must be a number strictly between 0 and 1, got \(rate)"
        case .nonPositiveTimeout(let timeout):
            "SLO timeout must be positive (at least one nanosecond), got \(timeout)"
        }
    }
}

extension Duration {
    /// Whole nanoseconds (truncated towards zero), saturating at the bounds of `Int64`.
    ///
    /// Also the conversion of every clock reading in ``Levee/run(classify:_:)``: dividing the
    /// attoseconds directly avoids the division by 10¹⁸ that `components` makes, about 6 of the
    /// 31 ns a `ContinuousClock` reading took on Linux. Where `attoseconds` is not available the
    /// components give the same value.
    @inline(__always)
    var nanoseconds: Int64 {
        if #available(macOS 26, iOS 26, watchOS 26, tvOS 26, visionOS 26, *) {
            return Int64(clamping: attoseconds / 1_000_000_000)
        }
        let (seconds, attoseconds) = components
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return seconds < 0 ? .min : .max }
        let (sum, overflow2) = scaled.addingReportingOverflow(attoseconds / 1_000_000_000)
        if overflow2 { return seconds < 0 ? .min : .max }
        return sum
    }
}
