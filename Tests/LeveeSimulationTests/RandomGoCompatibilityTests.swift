import Foundation
import Testing
import LeveeSimulation

/// Golden values from Go's own tests (`math/rand/v2` pcg_test.go and regress_test.go), all
/// from a fresh `NewPCG(1, 2)`.
@Suite("Go math/rand/v2 compatibility")
struct RandomGoCompatibilityTests {
    @Test("PCG reproduces Go's NewPCG(1, 2) output")
    func pcgMatchesGo() {
        var pcg = GoPCG(seed1: 1, seed2: 2)
        let expected: [UInt64] = [
            0xc4f5_a586_56ee_f510, 0x9dce_c3ad_077d_ec6c, 0xc8d0_4605_312f_8088, 0xcbed_c0dc_b63a_c19a,
            0x3bf9_8798_cae9_7950, 0x0a8c_6d7f_8d48_5abc, 0x7ffa_3780_429c_d279, 0x730a_d262_6b1c_2f8e,
            0x21ff_2330_f4a0_ad99, 0x2f09_01a1_9470_94b0, 0xa973_5a3c_fbe3_6cef, 0x71dd_b0a0_1a12_c84a,
            0xf0e5_3e77_a784_53bb, 0x1f17_3e96_63be_1e9d, 0x6576_51da_3ac4_115e, 0xc898_7376_b65a_157b,
            0xbb17_008f_5fca_28e7, 0x8232_bd64_5f29_ed22, 0x12be_8f07_ad14_c539, 0x5490_8a48_e8e4_736e,
        ]
        for value in expected {
            #expect(pcg.next() == value)
        }
    }

    @Test("Float64 uses the low 53 bits, as Go's Rand.Float64")
    func float64MatchesGo() {
        var pcg = GoPCG(seed1: 1, seed2: 2)
        let expected: [Double] = [
            0.6764556596678251, 0.4613862177205994, 0.5085473976760264, 0.4297927436037299,
            0.797802349388613, 0.3883664855410056, 0.8192750264193612, 0.3381816951746133,
            0.9730458047755973, 0.281449117585586, 0.6047654075331631, 0.9278107175107462,
            0.16387541502137226, 0.7263900707339023, 0.6974917552729882, 0.7640946923790318,
            0.7188183661358182, 0.5856191500346635, 0.9549597149363428, 0.5168804691962643,
        ]
        for value in expected {
            #expect(pcg.goFloat64() == value)
        }
    }

    @Test("ExpFloat64 follows Go's ziggurat, draw for draw")
    func expFloat64MatchesGo() {
        var pcg = GoPCG(seed1: 1, seed2: 2)
        let expected: [Double] = [
            0.5931317151369719, 0.0680034588807843, 0.036496967459790364, 2.460335459645379,
            1.5792300208419903, 0.9149501499404387, 0.43463410545541104, 0.5513632046504593,
            0.7426404617374481, 1.2334925132631804, 0.892529142200442, 0.21508763681487764,
            1.0208588200798545, 0.7650739736831382, 0.7772788529257701, 1.102732861281323,
            0.6982243043885805, 0.4981788638202421, 0.15806532306947937, 0.9419163802459202,
        ]
        for value in expected {
            #expect(pcg.goExpFloat64() == value)
        }
    }

    @Test("the loadgen seeding splits the seed as (seed, seed >> 32)")
    func loadgenSeeding() {
        let seed: UInt64 = 0x1234_5678_9abc_def0
        let seeded = GoPCG(goLoadgenSeed: seed)
        #expect(seeded.high == seed)
        #expect(seeded.low == seed >> 32)
    }
}

@Suite("Random variates")
struct RandomVariateTests {
    /// Kolmogorov–Smirnov statistic of `samples` against the unit exponential distribution.
    static func exponentialKS(_ samples: [Double]) -> Double {
        let sorted = samples.sorted()
        let n = Double(sorted.count)
        var statistic = 0.0
        for (index, value) in sorted.enumerated() {
            let cdf = 1 - exp(-value)
            statistic = max(statistic, abs(cdf - Double(index) / n), abs(Double(index + 1) / n - cdf))
        }
        return statistic
    }

    // With n = 100,000 the KS critical value at α = 0.001 is 1.949 / √n ≈ 0.00616.
    static let ksCritical = 1.949 / (100_000.0).squareRoot()

    @Test("exponential variates have mean 1 and pass Kolmogorov–Smirnov", arguments: ["go", "fast"])
    func exponentialDistribution(generator: String) {
        var pcg = GoPCG(goLoadgenSeed: 7)
        var xoshiro = Xoshiro256PlusPlus(seed: 7)
        var samples: [Double] = []
        samples.reserveCapacity(100_000)
        for _ in 0..<100_000 {
            samples.append(generator == "go" ? pcg.goExpFloat64() : xoshiro.goExpFloat64())
        }
        let mean = samples.reduce(0, +) / Double(samples.count)
        // Standard error of the mean is 1/√n ≈ 0.0032; allow 5 of them.
        #expect(abs(mean - 1) < 0.016)
        #expect(Self.exponentialKS(samples) < Self.ksCritical)
    }

    @Test("uniform variates stay in [0, 1) with mean 1/2", arguments: ["go", "fast"])
    func uniformDistribution(generator: String) {
        var pcg = GoPCG(goLoadgenSeed: 11)
        var xoshiro = Xoshiro256PlusPlus(seed: 11)
        var sum = 0.0
        var belowTenth = 0
        let n = 100_000
        for _ in 0..<n {
            let u = generator == "go" ? pcg.goFloat64() : xoshiro.goFloat64()
            #expect(u >= 0 && u < 1)
            sum += u
            if u < 0.1 { belowTenth += 1 }
        }
        // Standard errors: mean √(1/12n) ≈ 0.0009; count √(n·0.09) ≈ 95.
        #expect(abs(sum / Double(n) - 0.5) < 0.005)
        #expect(abs(belowTenth - n / 10) < 500)
    }

    @Test("xoshiro256++ is deterministic per seed and seeds differ")
    func xoshiroDeterminism() {
        var a = Xoshiro256PlusPlus(seed: 42)
        var b = Xoshiro256PlusPlus(seed: 42)
        var c = Xoshiro256PlusPlus(seed: 43)
        let first = (0..<16).map { _ in a.next() }
        #expect(first == (0..<16).map { _ in b.next() })
        #expect(first != (0..<16).map { _ in c.next() })
    }
}
