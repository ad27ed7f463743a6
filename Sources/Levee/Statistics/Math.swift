// The C library's exp and log, the only math the core needs beyond the standard library.
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#elseif canImport(ucrt)
import ucrt
#endif

@inline(__always) func naturalLog(_ x: Double) -> Double { log(x) }
@inline(__always) func naturalExp(_ x: Double) -> Double { exp(x) }

/// Natural logarithm to about 1e-4 relative accuracy from the float's exponent and a polynomial
/// on its mantissa: a few nanoseconds instead of a libm call, for latencies on the hot path
/// where a geometric mean needs no more precision. Positive finite inputs only.
@inline(__always) func fastLog(_ x: Double) -> Double {
    let bits = x.bitPattern
    let exponent = Double(Int((bits >> 52) & 0x7FF) - 1023)
    // Mantissa in [1, 2), mapped to t in [-1/3, 1/3] via (m - 1) / (m + 1) for fast convergence.
    let mantissa = Double(bitPattern: (bits & 0x000F_FFFF_FFFF_FFFF) | 0x3FF0_0000_0000_0000)
    let t = (mantissa - 1) / (mantissa + 1)
    let t2 = t * t
    // ln(m) = 2·atanh(t) = 2(t + t³/3 + t⁵/5 + t⁷/7 + …)
    let series = t * (2 + t2 * (2.0 / 3 + t2 * (2.0 / 5 + t2 * (2.0 / 7 + t2 * (2.0 / 9)))))
    return exponent * 0.6931471805599453 + series
}
