/// Go's `math/rand/v2` PCG source, reproduced bit for bit.
///
/// A 128-bit linear congruential generator with the full 128-bit multiplier (not NumPy's
/// cheap 64-bit one) and the DXSM ("double xorshift multiply") output permutation. Go keeps the
/// state as two 64-bit halves that `NewPCG(seed1, seed2)` sets directly, with no scrambling, and
/// advances the state *before* producing each output.
///
/// Go's `loadgen` seeds it as `NewPCG(seed, seed >> 32)`; ``init(goLoadgenSeed:)`` does the same.
public struct GoPCG: RandomNumberGenerator, Sendable, Hashable {
    /// The high 64 bits of the 128-bit state (Go's `hi`, set from `seed1`).
    public var high: UInt64
    /// The low 64 bits of the 128-bit state (Go's `lo`, set from `seed2`).
    public var low: UInt64

    /// Equivalent to Go's `rand.NewPCG(seed1, seed2)`.
    public init(seed1: UInt64, seed2: UInt64) {
        self.high = seed1
        self.low = seed2
    }

    /// Equivalent to the Go loadgen's `rand.NewPCG(seed, seed>>32)`.
    public init(goLoadgenSeed seed: UInt64) {
        self.init(seed1: seed, seed2: seed >> 32)
    }

    // The 128-bit multiplier and increment, as 64-bit halves (pcg-cpp's defaults, used by Go).
    private static let multiplierHigh: UInt64 = 2_549_297_995_355_413_924
    private static let multiplierLow: UInt64 = 4_865_540_595_714_422_341
    private static let incrementHigh: UInt64 = 6_364_136_223_846_793_005
    private static let incrementLow: UInt64 = 1_442_695_040_888_963_407
    private static let cheapMultiplier: UInt64 = 0xda94_2042_e4dd_58b5

    /// Advances the state and returns the next 64 output bits (Go's `PCG.Uint64`).
    @inline(__always)
    public mutating func next() -> UInt64 {
        // state = state * multiplier + increment (mod 2^128), in 64-bit halves.
        let product = low.multipliedFullWidth(by: Self.multiplierLow)
        var newHigh = product.high &+ high &* Self.multiplierLow &+ low &* Self.multiplierHigh
        let (newLow, carry) = product.low.addingReportingOverflow(Self.incrementLow)
        newHigh = newHigh &+ Self.incrementHigh &+ (carry ? 1 : 0)
        high = newHigh
        low = newLow

        // DXSM output on the new state.
        var output = newHigh
        output ^= output >> 32
        output &*= Self.cheapMultiplier
        output ^= output >> 48
        output &*= newLow | 1
        return output
    }
}
