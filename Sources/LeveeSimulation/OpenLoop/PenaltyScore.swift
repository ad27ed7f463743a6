/// The original's RPS²-weighted penalties, on per-second buckets of simulated time.
///
/// Requests are bucketed by the second of their start, counted from the simulation start (the
/// first request). In each second `t`, `bad_t` counts requests the candidate admitted while the
/// oracle was OPEN and `lost_t` requests it rejected while the oracle was CLOSED; then
/// `BadTraffic = √Σ bad_t²`, `LostBusiness = √Σ lost_t²` and `TotalPenalty` is their sum.
/// (The original buckets by wall-clock Unix seconds of timestamps anchored to when it ran, so
/// its buckets are shifted by a random fraction of a second; here they are reproducible.)
public struct PenaltyScore: Sendable, Hashable, Codable {
    /// √Σ bad_t²: harm from admitting traffic the oracle would have blocked.
    public var badTraffic: Double
    /// √Σ lost_t²: harm from blocking traffic the oracle would have admitted.
    public var lostBusiness: Double

    /// BadTraffic + LostBusiness. Lower is better.
    public var totalPenalty: Double { badTraffic + lostBusiness }

    public init(badTraffic: Double, lostBusiness: Double) {
        self.badTraffic = badTraffic
        self.lostBusiness = lostBusiness
    }

    /// Scores per-second counts of bad (admitted while OPEN) and lost (blocked while CLOSED) requests.
    public init<Bad: Sequence, Lost: Sequence>(badPerSecond: Bad, lostPerSecond: Lost)
    where Bad.Element: BinaryInteger, Lost.Element: BinaryInteger {
        self.init(badTraffic: Self.l2Norm(badPerSecond), lostBusiness: Self.l2Norm(lostPerSecond))
    }

    /// The Euclidean norm of a vector of counts, √Σ cᵢ², summed exactly in integers.
    public static func l2Norm<Counts: Sequence>(_ counts: Counts) -> Double where Counts.Element: BinaryInteger {
        var sum: UInt64 = 0
        for count in counts {
            let value = UInt64(clamping: Int64(clamping: count).magnitude)
            sum &+= value &* value
        }
        return Double(sum).squareRoot()
    }
}
