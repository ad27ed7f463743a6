#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The latency shape of Go's loadgen: a rational quantile function up to the 99th percentile
/// and a uniform tail from p99 to the timeout.
///
/// For a uniform x in [0, 1):
/// - x ≤ 0.99: `a + b·x / (1 − c·x)`, with `a = p50/2`, `c = (1.49·p50 − p99) / (0.99·(p50 − p99))`
///   and `b = p50·(1 − c/2)`, the unique curve through (0, p50/2), (0.5, p50) and (0.99, p99);
/// - x > 0.99: linear from p99 at 0.99 to the timeout at 1, so the top 1 % is uniform.
///
/// Because x is uniform this *is* the quantile function: the median and p99 are exact.
public struct LatencyDistribution: Sendable, Hashable {
    /// The median, hit exactly at x = 0.5.
    public let p50Milliseconds: Double
    /// The 99th percentile, hit exactly at x = 0.99.
    public let p99Milliseconds: Double
    /// The largest latency, at x = 1.
    public let timeoutMilliseconds: Double
    /// The rational function's offset `a`, scale `b` and pole coefficient `c`.
    public let a: Double
    public let b: Double
    public let c: Double
    /// `(timeout − p99) / 0.01`: the tail's slope per unit of x.
    public let tailSlope: Double

    /// Requires `0 < p50 < p99 < timeout` (``Phase`` validates this).
    public init(p50Milliseconds: Double, p99Milliseconds: Double, timeoutMilliseconds: Double) {
        self.p50Milliseconds = p50Milliseconds
        self.p99Milliseconds = p99Milliseconds
        self.timeoutMilliseconds = timeoutMilliseconds
        // Same operations, in the same order, as the Go original, so the constants are identical.
        a = p50Milliseconds / 2
        c = (1.49 * p50Milliseconds - p99Milliseconds) / (0.99 * (p50Milliseconds - p99Milliseconds))
        b = p50Milliseconds * (1 - 0.5 * c)
        tailSlope = (timeoutMilliseconds - p99Milliseconds) / 0.01
    }

    /// The latency in milliseconds at quantile `x` in [0, 1].
    @inline(__always)
    public func quantile(_ x: Double) -> Double {
        if x <= 0.99 {
            return a + b * x / (1 - c * x)
        }
        return p99Milliseconds + tailSlope * (x - 0.99)
    }

    /// The mean latency in milliseconds, in closed form.
    ///
    /// The rational part integrates to `0.99·a + b·(−0.99/c − ln(1 − 0.99·c)/c²)` (its limit
    /// `0.99·a + b·0.99²/2` when c → 0) and the uniform tail adds `0.01·(p99 + timeout)/2`.
    public var meanMilliseconds: Double {
        let rational: Double
        if abs(c) < 1e-6 {
            // Series of the same integral; the closed form cancels catastrophically near 0.
            rational = 0.99 * a + b * (0.99 * 0.99 / 2 + c * 0.99 * 0.99 * 0.99 / 3)
        } else {
            rational = 0.99 * a + b * (-0.99 / c - log(1 - 0.99 * c) / (c * c))
        }
        return rational + 0.01 * (p99Milliseconds + timeoutMilliseconds) / 2
    }
}
