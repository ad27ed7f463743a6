/// A fixed-layout log-linear histogram of nanosecond durations: exact below 128 ns, then 128
/// equal sub-buckets per power of two, so any quantile read back is within 0.4 % of a value
/// actually recorded (half of a 1/128 bucket width). Values from 2^44 ns (about 4.9 hours) up
/// share the last bucket.
///
/// The counters are allocated on the first ``record(_:)``, so empty histograms cost nothing.
public struct LatencyHistogram: Sendable, Hashable {
    private static let subBucketBits = 7
    private static let subBucketCount = 1 << subBucketBits
    private static let largestExponent = 43
    static let bucketCount = (largestExponent - subBucketBits + 2) * subBucketCount

    private var counts: ContiguousArray<UInt64> = []
    /// The number of recorded values.
    public private(set) var count: UInt64 = 0

    public init() {}

    /// Adds one duration in nanoseconds (negative values count as 0).
    public mutating func record(_ nanoseconds: Int64) {
        if counts.isEmpty {
            counts = ContiguousArray(repeating: 0, count: Self.bucketCount)
        }
        counts[Self.bucketIndex(of: nanoseconds)] &+= 1
        count &+= 1
    }

    /// The value at quantile `q` (in [0, 1], nearest rank) in nanoseconds, as the middle of
    /// its bucket; `nil` when nothing was recorded.
    public func quantile(_ q: Double) -> Double? {
        guard count > 0 else { return nil }
        let rank = max(1, UInt64((min(max(q, 0), 1) * Double(count)).rounded(.up)))
        var cumulative: UInt64 = 0
        for (index, bucketCount) in counts.enumerated() where bucketCount > 0 {
            cumulative += bucketCount
            if cumulative >= rank {
                let (low, width) = Self.bucketBounds(index)
                return Double(low) + Double(width - 1) / 2
            }
        }
        return nil
    }

    static func bucketIndex(of nanoseconds: Int64) -> Int {
        let value = UInt64(max(nanoseconds, 0))
        if value < UInt64(subBucketCount) { return Int(value) }
        let exponent = min(UInt64.bitWidth - 1 - value.leadingZeroBitCount, largestExponent)
        if exponent == largestExponent && value >= UInt64(1) << (largestExponent + 1) {
            return bucketCount - 1
        }
        let subBucket = Int(value >> UInt64(exponent - subBucketBits)) & (subBucketCount - 1)
        return (exponent - subBucketBits + 1) * subBucketCount + subBucket
    }

    /// The lowest value of a bucket and how many integers it covers.
    static func bucketBounds(_ index: Int) -> (low: UInt64, width: UInt64) {
        if index < subBucketCount { return (UInt64(index), 1) }
        let exponent = index / subBucketCount + subBucketBits - 1
        let subBucket = UInt64(index % subBucketCount)
        let width = UInt64(1) << UInt64(exponent - subBucketBits)
        return ((UInt64(subBucketCount) + subBucket) * width, width)
    }
}
