/// xoshiro256++ (Blackman and Vigna): a fast 64-bit generator with 256 bits of state.
///
/// It backs ``GeneratorMode/fast``: the same ziggurat exponential and 53-bit uniforms as the
/// Go-compatible mode, on a generator that costs one add and a few shifts per output instead
/// of a 128-bit multiply, so streams are statistically equivalent but not identical.
public struct Xoshiro256PlusPlus: RandomNumberGenerator, Sendable, Hashable {
    private var s0: UInt64
    private var s1: UInt64
    private var s2: UInt64
    private var s3: UInt64

    /// Seeds the four state words from `seed` through SplitMix64, as the authors recommend,
    /// so that nearby seeds give unrelated streams and the state is never all zero.
    public init(seed: UInt64) {
        var mixer = SplitMix64(state: seed)
        s0 = mixer.next()
        s1 = mixer.next()
        s2 = mixer.next()
        s3 = mixer.next()
    }

    /// The next 64 output bits.
    @inline(__always)
    public mutating func next() -> UInt64 {
        let result = (s0 &+ s3).rotatedLeft(by: 23) &+ s0
        let shifted = s1 << 17
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= shifted
        s3 = s3.rotatedLeft(by: 45)
        return result
    }
}

/// A uniform double in [0, 1) from the top 53 bits of the generator.
@inline(__always)
func unitUniform(_ generator: inout Xoshiro256PlusPlus) -> Double {
    Double(generator.next() >> 11) * 0x1p-53
}

/// SplitMix64, used only to expand a 64-bit seed into generator state.
struct SplitMix64 {
    var state: UInt64

    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}

extension UInt64 {
    @inline(__always)
    func rotatedLeft(by count: UInt64) -> UInt64 {
        (self << count) | (self >> (64 &- count))
    }
}
