// swift-tools-version: 6.2
import PackageDescription

let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "levee",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "Levee", targets: ["Levee"]),
        .library(name: "LeveeSimulation", targets: ["LeveeSimulation"]),
        .executable(name: "levee", targets: ["LeveeCLI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/x-sheep/swift-property-based.git", from: "2.0.1"),
        // Documentation only: `swift package generate-documentation --target Levee`.
        .package(url: "https://github.com/swiftlang/swift-docc-plugin.git", from: "1.5.0"),
    ],
    targets: [
        // The core: depends on nothing but the toolchain.
        .target(name: "Levee", swiftSettings: strict),
        // Load generator, oracle, baselines and scoring, all on simulated time.
        .target(name: "LeveeSimulation", dependencies: ["Levee"], swiftSettings: strict),
        .executableTarget(
            name: "LeveeCLI",
            dependencies: [
                "Levee", "LeveeSimulation",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict),
        .testTarget(
            name: "LeveeTests",
            dependencies: ["Levee", .product(name: "PropertyBased", package: "swift-property-based")]),
        .testTarget(name: "LeveeSimulationTests", dependencies: ["LeveeSimulation", "Levee", "LeveeCLI"]),
    ]
)
