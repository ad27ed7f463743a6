#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

// Go's `math/rand/v2` uniform and exponential variates, computed from any 64-bit generator
// exactly as Go's `Rand.Float64` and `Rand.ExpFloat64` compute them from their `Source`.

extension RandomNumberGenerator {
    /// A uniform double in [0, 1), as Go's `Rand.Float64`: the *low* 53 bits of one 64-bit
    /// output divided by 2^53.
    @inline(__always)
    public mutating func goFloat64() -> Double {
        Double(next() & 0x001F_FFFF_FFFF_FFFF) * 0x1p-53
    }

    /// An exponential variate with mean 1, as Go's `Rand.ExpFloat64` (Marsaglia and Tsang's
    /// ziggurat with 256 rectangles and Go's tables).
    ///
    /// Each attempt takes one 64-bit output: its low 32 bits pick the point inside a rectangle
    /// and bits 32–39 pick the rectangle. About 98.9 % of calls return on the first fast test;
    /// the tail and wedge paths consume further uniforms exactly as Go does.
    @inline(__always)
    public mutating func goExpFloat64() -> Double {
        goExpFloat64WithSpareBits().exponential
    }

    /// The same exponential, and the top 24 bits of the first 64-bit output it took, which the
    /// ziggurat never reads: uniform and independent of the exponential.
    @inline(__always)
    mutating func goExpFloat64WithSpareBits() -> (exponential: Double, spare: UInt64) {
        let first = next()
        let spare = first >> 40
        var bits = first
        while true {
            let j = UInt32(truncatingIfNeeded: bits)
            let i = Int(UInt8(truncatingIfNeeded: bits >> 32))
            let x = Double(j) * Double(GoZiggurat.scaledWidths[i])
            if j < GoZiggurat.acceptanceThresholds[i] {
                return (x, spare)
            }
            let (accepted, advanced) = Self.goExpFloat64SlowPath(self, rectangle: i, x: x)
            self = advanced
            if let accepted { return (accepted, spare) }
            bits = next()
        }
    }

    /// The tail (rectangle 0) and wedge tests, kept out of line so the fast path stays small.
    /// The generator goes in and comes back by value rather than `inout`: a caller's local
    /// generator whose address escaped into this call could no longer live in registers, and
    /// every draw on the fast path would go through memory.
    @inline(never)
    static func goExpFloat64SlowPath(_ generator: Self, rectangle i: Int, x: Double) -> (Double?, Self) {
        var generator = generator
        if i == 0 {
            return (GoZiggurat.tailStart - log(generator.goFloat64()), generator)
        }
        // Go evaluates this test in float32; keep every operation in Float.
        let upper = GoZiggurat.densities[i - 1]
        let lower = GoZiggurat.densities[i]
        let height = lower + Float(generator.goFloat64()) * (upper - lower)
        return (height < Float(exp(-x)) ? x : nil, generator)
    }
}

/// The constant tables of Go's exponential ziggurat (`math/rand/v2/exp.go`).
enum GoZiggurat {
    /// `re`: where the exponential tail beyond the last rectangle starts.
    static let tailStart = 7.69711747013104972

    /// `ke`: the 32-bit acceptance thresholds of each rectangle.
    static let acceptanceThresholds: [UInt32] = [
        0xe290_a139, 0x0000_0000, 0x9bea_debc, 0xc377_ac71, 0xd4dd_b990, 0xde89_3fb8,
        0xe4a8_e87c, 0xe8df_f16a, 0xebf2_deab, 0xee49_a6e8, 0xf020_4efd, 0xf19b_db8e,
        0xf2d4_58bb, 0xf3da_104b, 0xf4b8_6d78, 0xf577_ad8a, 0xf61d_e83d, 0xf6af_b784,
        0xf730_a573, 0xf7a3_7651, 0xf80a_5bb6, 0xf867_189d, 0xf8bb_1b4f, 0xf907_9062,
        0xf94d_70ca, 0xf98d_8c7d, 0xf9c8_928a, 0xf9ff_175b, 0xfa31_9996, 0xfa60_85f8,
        0xfa8c_3a62, 0xfab5_084e, 0xfadb_36c8, 0xfaff_0410, 0xfb20_a6ea, 0xfb40_4fb4,
        0xfb5e_2951, 0xfb7a_59e9, 0xfb95_038c, 0xfbae_44ba, 0xfbc6_38d8, 0xfbdc_f892,
        0xfbf2_9a30, 0xfc07_31df, 0xfc1a_d1ed, 0xfc2d_8b02, 0xfc3f_6c4d, 0xfc50_83ac,
        0xfc60_ddd1, 0xfc70_8662, 0xfc7f_8810, 0xfc8d_ecb4, 0xfc9b_bd62, 0xfca9_027c,
        0xfcb5_c3c3, 0xfcc2_0864, 0xfccd_d70a, 0xfcd9_35e3, 0xfce4_2ab0, 0xfcee_bace,
        0xfcf8_eb3b, 0xfd02_c0a0, 0xfd0c_3f59, 0xfd15_6b7b, 0xfd1e_48d6, 0xfd26_daff,
        0xfd2f_2552, 0xfd37_2af7, 0xfd3e_eee5, 0xfd46_73e7, 0xfd4d_bc9e, 0xfd54_cb85,
        0xfd5b_a2f2, 0xfd62_451b, 0xfd68_b415, 0xfd6e_f1da, 0xfd75_0047, 0xfd7a_e120,
        0xfd80_9612, 0xfd86_20b4, 0xfd8b_8285, 0xfd90_bcf5, 0xfd95_d15e, 0xfd9a_c10b,
        0xfd9f_8d36, 0xfda4_3708, 0xfda8_bf9e, 0xfdad_2806, 0xfdb1_7141, 0xfdb5_9c46,
        0xfdb9_a9fd, 0xfdbd_9b46, 0xfdc1_70f6, 0xfdc5_2bd8, 0xfdc8_ccac, 0xfdcc_542d,
        0xfdcf_c30b, 0xfdd3_19ef, 0xfdd6_597a, 0xfdd9_8245, 0xfddc_94e5, 0xfddf_91e6,
        0xfde2_79ce, 0xfde5_4d1f, 0xfde8_0c52, 0xfdea_b7de, 0xfded_5034, 0xfdef_d5be,
        0xfdf2_48e3, 0xfdf4_aa06, 0xfdf6_f984, 0xfdf9_37b6, 0xfdfb_64f4, 0xfdfd_818d,
        0xfdff_8dd0, 0xfe01_8a08, 0xfe03_767a, 0xfe05_536c, 0xfe07_211c, 0xfe08_dfc9,
        0xfe0a_8fab, 0xfe0c_30fb, 0xfe0d_c3ec, 0xfe0f_48b1, 0xfe10_bf76, 0xfe12_2869,
        0xfe13_83b4, 0xfe14_d17c, 0xfe16_11e7, 0xfe17_4516, 0xfe18_6b2a, 0xfe19_843e,
        0xfe1a_9070, 0xfe1b_8fd6, 0xfe1c_8289, 0xfe1d_689b, 0xfe1e_4220, 0xfe1f_0f26,
        0xfe1f_cfbc, 0xfe20_83ed, 0xfe21_2bc3, 0xfe21_c745, 0xfe22_5678, 0xfe22_d95f,
        0xfe23_4ffb, 0xfe23_ba4a, 0xfe24_1849, 0xfe24_69f2, 0xfe24_af3c, 0xfe24_e81e,
        0xfe25_148b, 0xfe25_3474, 0xfe25_47c7, 0xfe25_4e70, 0xfe25_485a, 0xfe25_356a,
        0xfe25_1586, 0xfe24_e88f, 0xfe24_ae64, 0xfe24_66e1, 0xfe24_11df, 0xfe23_af34,
        0xfe23_3eb4, 0xfe22_c02c, 0xfe22_336b, 0xfe21_9838, 0xfe20_ee58, 0xfe20_358c,
        0xfe1f_6d92, 0xfe1e_9621, 0xfe1d_aef0, 0xfe1c_b7ac, 0xfe1b_b002, 0xfe1a_9798,
        0xfe19_6e0d, 0xfe18_32fd, 0xfe16_e5fe, 0xfe15_869d, 0xfe14_1464, 0xfe12_8ed3,
        0xfe10_f565, 0xfe0f_478c, 0xfe0d_84b1, 0xfe0b_ac36, 0xfe09_bd73, 0xfe07_b7b5,
        0xfe05_9a40, 0xfe03_644c, 0xfe01_1504, 0xfdfe_ab88, 0xfdfc_26e9, 0xfdf9_8629,
        0xfdf6_c83b, 0xfdf3_ec01, 0xfdf0_f04a, 0xfded_d3d1, 0xfdea_953d, 0xfde7_331e,
        0xfde3_abe9, 0xfddf_fdfb, 0xfddc_2791, 0xfdd8_26cd, 0xfdd3_f9a8, 0xfdcf_9dfc,
        0xfdcb_1176, 0xfdc6_5198, 0xfdc1_5bb3, 0xfdbc_2ce2, 0xfdb6_c206, 0xfdb1_17be,
        0xfdab_2a63, 0xfda4_f5fd, 0xfd9e_7640, 0xfd97_a67a, 0xfd90_8192, 0xfd89_01f2,
        0xfd81_2182, 0xfd78_d98e, 0xfd70_22bb, 0xfd66_f4ed, 0xfd5d_4732, 0xfd53_0f9c,
        0xfd48_432b, 0xfd3c_d59a, 0xfd30_b936, 0xfd23_dea4, 0xfd16_349e, 0xfd07_a7a3,
        0xfcf8_219b, 0xfce7_895b, 0xfcd5_c220, 0xfcc2_aadb, 0xfcae_1d5e, 0xfc97_ed4e,
        0xfc7f_e6d4, 0xfc65_ccf3, 0xfc49_5762, 0xfc2a_2fc8, 0xfc07_ee19, 0xfbe2_13c1,
        0xfbb8_051a, 0xfb89_0078, 0xfb54_11a5, 0xfb18_0005, 0xfad3_3482, 0xfa83_9276,
        0xfa26_3b32, 0xf9b7_2d1c, 0xf930_a1a2, 0xf889_f023, 0xf7b5_77d2, 0xf69c_650c,
        0xf515_30f0, 0xf2cb_0e3c, 0xeeef_b15d, 0xe6da_6ecf,
    ]

    /// `we`: the width of each rectangle divided by 2^32, so `j * width` maps a 32-bit `j` into it.
    static let scaledWidths: [Float] = [
        2.0249555e-09, 1.486674e-11, 2.4409617e-11, 3.1968806e-11,
        3.844677e-11, 4.4228204e-11, 4.9516443e-11, 5.443359e-11,
        5.905944e-11, 6.344942e-11, 6.7643814e-11, 7.1672945e-11,
        7.556032e-11, 7.932458e-11, 8.298079e-11, 8.654132e-11,
        9.0016515e-11, 9.3415074e-11, 9.674443e-11, 1.0001099e-10,
        1.03220314e-10, 1.06377254e-10, 1.09486115e-10, 1.1255068e-10,
        1.1557435e-10, 1.1856015e-10, 1.2151083e-10, 1.2442886e-10,
        1.2731648e-10, 1.3017575e-10, 1.3300853e-10, 1.3581657e-10,
        1.3860142e-10, 1.4136457e-10, 1.4410738e-10, 1.4683108e-10,
        1.4953687e-10, 1.5222583e-10, 1.54899e-10, 1.5755733e-10,
        1.6020171e-10, 1.6283301e-10, 1.6545203e-10, 1.6805951e-10,
        1.7065617e-10, 1.732427e-10, 1.7581973e-10, 1.7838787e-10,
        1.8094774e-10, 1.8349985e-10, 1.8604476e-10, 1.8858298e-10,
        1.9111498e-10, 1.9364126e-10, 1.9616223e-10, 1.9867835e-10,
        2.0119004e-10, 2.0369768e-10, 2.0620168e-10, 2.087024e-10,
        2.1120022e-10, 2.136955e-10, 2.1618855e-10, 2.1867974e-10,
        2.2116936e-10, 2.2365775e-10, 2.261452e-10, 2.2863202e-10,
        2.311185e-10, 2.3360494e-10, 2.360916e-10, 2.3857874e-10,
        2.4106667e-10, 2.4355562e-10, 2.4604588e-10, 2.485377e-10,
        2.5103128e-10, 2.5352695e-10, 2.560249e-10, 2.585254e-10,
        2.6102867e-10, 2.6353494e-10, 2.6604446e-10, 2.6855745e-10,
        2.7107416e-10, 2.7359479e-10, 2.761196e-10, 2.7864877e-10,
        2.8118255e-10, 2.8372119e-10, 2.8626485e-10, 2.888138e-10,
        2.9136826e-10, 2.939284e-10, 2.9649452e-10, 2.9906677e-10,
        3.016454e-10, 3.0423064e-10, 3.0682268e-10, 3.0942177e-10,
        3.1202813e-10, 3.1464195e-10, 3.1726352e-10, 3.19893e-10,
        3.2253064e-10, 3.251767e-10, 3.2783135e-10, 3.3049485e-10,
        3.3316744e-10, 3.3584938e-10, 3.3854083e-10, 3.4124212e-10,
        3.4395342e-10, 3.46675e-10, 3.4940711e-10, 3.5215003e-10,
        3.5490397e-10, 3.5766917e-10, 3.6044595e-10, 3.6323455e-10,
        3.660352e-10, 3.6884823e-10, 3.7167386e-10, 3.745124e-10,
        3.773641e-10, 3.802293e-10, 3.8310827e-10, 3.860013e-10,
        3.8890866e-10, 3.918307e-10, 3.9476775e-10, 3.9772008e-10,
        4.0068804e-10, 4.0367196e-10, 4.0667217e-10, 4.09689e-10,
        4.1272286e-10, 4.1577405e-10, 4.1884296e-10, 4.2192994e-10,
        4.250354e-10, 4.281597e-10, 4.313033e-10, 4.3446652e-10,
        4.3764986e-10, 4.408537e-10, 4.4407847e-10, 4.4732465e-10,
        4.5059267e-10, 4.5388301e-10, 4.571962e-10, 4.6053267e-10,
        4.6389292e-10, 4.6727755e-10, 4.70687e-10, 4.741219e-10,
        4.7758275e-10, 4.810702e-10, 4.845848e-10, 4.8812715e-10,
        4.9169796e-10, 4.9529775e-10, 4.989273e-10, 5.0258725e-10,
        5.0627835e-10, 5.100013e-10, 5.1375687e-10, 5.1754584e-10,
        5.21369e-10, 5.2522725e-10, 5.2912136e-10, 5.330522e-10,
        5.370208e-10, 5.4102806e-10, 5.45075e-10, 5.491625e-10,
        5.532918e-10, 5.5746385e-10, 5.616799e-10, 5.6594107e-10,
        5.7024857e-10, 5.746037e-10, 5.7900773e-10, 5.834621e-10,
        5.8796823e-10, 5.925276e-10, 5.971417e-10, 6.018122e-10,
        6.065408e-10, 6.113292e-10, 6.1617933e-10, 6.2109295e-10,
        6.260722e-10, 6.3111916e-10, 6.3623595e-10, 6.4142497e-10,
        6.4668854e-10, 6.5202926e-10, 6.5744976e-10, 6.6295286e-10,
        6.6854156e-10, 6.742188e-10, 6.79988e-10, 6.858526e-10,
        6.9181616e-10, 6.978826e-10, 7.04056e-10, 7.103407e-10,
        7.167412e-10, 7.2326256e-10, 7.2990985e-10, 7.366886e-10,
        7.4360473e-10, 7.5066453e-10, 7.5787476e-10, 7.6524265e-10,
        7.7277595e-10, 7.80483e-10, 7.883728e-10, 7.9645507e-10,
        8.047402e-10, 8.1323964e-10, 8.219657e-10, 8.309319e-10,
        8.401528e-10, 8.496445e-10, 8.594247e-10, 8.6951274e-10,
        8.799301e-10, 8.9070046e-10, 9.018503e-10, 9.134092e-10,
        9.254101e-10, 9.378904e-10, 9.508923e-10, 9.644638e-10,
        9.786603e-10, 9.935448e-10, 1.0091913e-09, 1.025686e-09,
        1.0431306e-09, 1.0616465e-09, 1.08138e-09, 1.1025096e-09,
        1.1252564e-09, 1.1498986e-09, 1.1767932e-09, 1.206409e-09,
        1.2393786e-09, 1.276585e-09, 1.3193139e-09, 1.3695435e-09,
        1.4305498e-09, 1.508365e-09, 1.6160854e-09, 1.7921248e-09,
    ]

    /// `fe`: the exponential density at the edge of each rectangle.
    static let densities: [Float] = [
        1, 0.9381437, 0.90046996, 0.87170434, 0.8477855, 0.8269933,
        0.8084217, 0.7915276, 0.77595687, 0.7614634, 0.7478686, 0.7350381,
        0.72286767, 0.71127474, 0.70019263, 0.6895665, 0.67935055, 0.6695063,
        0.66000086, 0.65080583, 0.6418967, 0.63325197, 0.6248527, 0.6166822,
        0.60872537, 0.60096896, 0.5934009, 0.58601034, 0.5787874, 0.57172304,
        0.5648092, 0.5580383, 0.5514034, 0.5448982, 0.5385169, 0.53225386,
        0.5261042, 0.52006316, 0.5141264, 0.50828975, 0.5025495, 0.496902,
        0.49134386, 0.485872, 0.48048335, 0.4751752, 0.46994483, 0.46478975,
        0.45970762, 0.45469615, 0.44975325, 0.44487688, 0.44006512, 0.43531612,
        0.43062815, 0.42599955, 0.42142874, 0.4169142, 0.41245446, 0.40804818,
        0.403694, 0.3993907, 0.39513698, 0.39093173, 0.38677382, 0.38266218,
        0.37859577, 0.37457356, 0.37059465, 0.3666581, 0.362763, 0.35890847,
        0.35509375, 0.351318, 0.3475805, 0.34388044, 0.34021714, 0.3365899,
        0.33299807, 0.32944095, 0.32591796, 0.3224285, 0.3189719, 0.31554767,
        0.31215525, 0.30879408, 0.3054636, 0.3021634, 0.29889292, 0.2956517,
        0.29243928, 0.28925523, 0.28609908, 0.28297043, 0.27986884, 0.27679393,
        0.2737453, 0.2707226, 0.2677254, 0.26475343, 0.26180625, 0.25888354,
        0.25598502, 0.2531103, 0.25025907, 0.24743107, 0.24462597, 0.24184346,
        0.23908329, 0.23634516, 0.23362878, 0.23093392, 0.2282603, 0.22560766,
        0.22297576, 0.22036438, 0.21777324, 0.21520215, 0.21265087, 0.21011916,
        0.20760682, 0.20511365, 0.20263945, 0.20018397, 0.19774707, 0.19532852,
        0.19292815, 0.19054577, 0.1881812, 0.18583426, 0.18350479, 0.1811926,
        0.17889754, 0.17661946, 0.17435817, 0.17211354, 0.1698854, 0.16767362,
        0.16547804, 0.16329853, 0.16113494, 0.15898713, 0.15685499, 0.15473837,
        0.15263714, 0.15055119, 0.14848037, 0.14642459, 0.14438373, 0.14235765,
        0.14034624, 0.13834943, 0.13636707, 0.13439907, 0.13244532, 0.13050574,
        0.1285802, 0.12666863, 0.12477092, 0.12288698, 0.12101672, 0.119160056,
        0.1173169, 0.115487166, 0.11367077, 0.11186763, 0.11007768, 0.10830083,
        0.10653701, 0.10478614, 0.10304816, 0.101323, 0.09961058, 0.09791085,
        0.09622374, 0.09454919, 0.09288713, 0.091237515, 0.08960028, 0.087975375,
        0.08636274, 0.08476233, 0.083174095, 0.081597984, 0.08003395, 0.07848195,
        0.076941945, 0.07541389, 0.07389775, 0.072393484, 0.07090106, 0.069420435,
        0.06795159, 0.066494495, 0.06504912, 0.063615434, 0.062193416, 0.060783047,
        0.059384305, 0.057997175, 0.05662164, 0.05525769, 0.053905312, 0.052564494,
        0.051235236, 0.049917534, 0.048611384, 0.047316793, 0.046033762, 0.0447623,
        0.043502413, 0.042254124, 0.041017443, 0.039792392, 0.038578995, 0.037377283,
        0.036187284, 0.035009038, 0.033842582, 0.032687962, 0.031545233, 0.030414443,
        0.02929566, 0.02818895, 0.027094385, 0.026012046, 0.024942026, 0.023884421,
        0.022839336, 0.021806888, 0.020787204, 0.019780423, 0.0187867, 0.0178062,
        0.016839107, 0.015885621, 0.014945968, 0.014020392, 0.013109165, 0.012212592,
        0.011331013, 0.01046481, 0.009614414, 0.008780315, 0.007963077, 0.0071633533,
        0.006381906, 0.0056196423, 0.0048776558, 0.004157295, 0.0034602648, 0.0027887989,
        0.0021459677, 0.0015362998, 0.0009672693, 0.00045413437,
    ]
}
