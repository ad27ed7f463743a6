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
