/// Common random numbers: every per-request draw is a pure function of (seed, request id,
/// purpose), so two runs that differ only in which requests a candidate admits give each
/// request the same service time, the same error draws and the same client jitter.
///
/// The draw is two rounds of the SplitMix64 finaliser (a strong 64-bit mixer): one over the seed
/// and the purpose's salt, one over that result plus the request id. It costs a few
/// multiplications and keeps no state, so it is safe to call from anywhere in any order.
public enum CommonRandom {
    /// What a draw is for. Distinct purposes give independent streams for the same request.
    public struct Purpose: Sendable, Hashable {
        /// An arbitrary constant; different purposes must use different salts.
        public var salt: UInt64

        public init(salt: UInt64) {
            self.salt = salt
        }

        /// The backend's service-time quantile.
        public static let backendLatency = Purpose(salt: 0x6C61_7465_6E63_7901)
        /// The backend's load-driven (overload) error draw.
        public static let backendOverloadError = Purpose(salt: 0x6F76_6572_6C6F_6102)
        /// The backend's own error draw: the phase's error rate (a sick dependency) or the
        /// original's small baseline rate.
        public static let backendHealthError = Purpose(salt: 0x6865_616C_7468_6503)
    }

    /// 64 uniformly distributed bits for `(seed, id, purpose)`.
    @inline(__always)
    public static func bits(seed: UInt64, id: UInt64, purpose: Purpose) -> UInt64 {
        finalise(finalise(seed ^ purpose.salt) &+ id &* 0x9E37_79B9_7F4A_7C15)
    }

    /// A uniform double in [0, 1) for `(seed, id, purpose)`, from the top 53 bits.
    @inline(__always)
    public static func uniform(seed: UInt64, id: UInt64, purpose: Purpose) -> Double {
        Double(bits(seed: seed, id: id, purpose: purpose) >> 11) * 0x1p-53
    }

    /// The SplitMix64 output function (Steele, Lea and Flood), with its golden-ratio increment.
    @inline(__always)
    static func finalise(_ value: UInt64) -> UInt64 {
        var z = value &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
