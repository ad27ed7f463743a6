// swift-tools-version: 6.2
// Benchmarks for Levee, kept in a nested package so that the benchmark library, its malloc
// interposer and their dependencies stay out of the main package's graph.
//
// Run from this directory:  swift package benchmark  [--target LoadGeneratorBenchmarks]
import PackageDescription

// A path dependency's identity is its directory name, which is not fixed (CI clones the
// repository under any name), so derive it from where this manifest lives.
let rootIdentity =
    Context.packageDirectory.split(separator: "/").dropLast().last.map(String.init)?.lowercased() ?? "levee"

/// One executable target per suite, with its sources in `Benchmarks/<name>/`.
func benchmarkSuite(_ name: String, dependencies: [Target.Dependency]) -> Target {
    .executableTarget(
        name: name,
        dependencies: dependencies + [.product(name: "Benchmark", package: "benchmark")],
        path: "Benchmarks/\(name)",
        plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")])
}

let package = Package(
    name: "levee-benchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(path: "../"),
        // Only the malloc interposer: the default trait set also pulls a runtime interposer that
        // is not available offline on Linux.
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        benchmarkSuite(
            "LoadGeneratorBenchmarks",
            dependencies: [.product(name: "LeveeSimulation", package: rootIdentity)]),
        benchmarkSuite("CoreBenchmarks", dependencies: [.product(name: "Levee", package: rootIdentity)]),
    ]
)
