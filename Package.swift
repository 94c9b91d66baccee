// swift-tools-version:6.0
import Foundation
import PackageDescription

// llama.cpp is built by scripts/setup.sh into a cache outside the repository, keyed by the sdist version and
// its sha256 prefix. Keep these two in step with scripts/setup.sh.
let llamaVersion = "0.3.36"
let llamaKey = "832db0699007-avx2"
let cacheRoot = ProcessInfo.processInfo.environment["LONGRM_CACHE"]
    ?? (ProcessInfo.processInfo.environment["HOME"] ?? "/root") + "/.cache/longrm"
let llamaPrefix = "\(cacheRoot)/llama.cpp-\(llamaVersion)-\(llamaKey)/install"

let llamaSwiftFlags: [SwiftSetting] = [.unsafeFlags(["-Xcc", "-I\(llamaPrefix)/include"])]
let strict: [SwiftSetting] = [.enableUpcomingFeature("ExistentialAny")]

let package = Package(
    name: "longrm",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "longrm", targets: ["longrm"]),
        .executable(name: "HTTPParserFuzz", targets: ["HTTPParserFuzz"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
    ],
    targets: [
        .target(
            name: "CLlama",
            cSettings: [.unsafeFlags(["-I\(llamaPrefix)/include"])],
            linkerSettings: [
                .unsafeFlags(["-L\(llamaPrefix)/lib", "-Xlinker", "-rpath", "-Xlinker", "\(llamaPrefix)/lib"]),
                .linkedLibrary("llama"),
                .linkedLibrary("ggml"),
                .linkedLibrary("ggml-base"),
            ]
        ),
        .target(name: "HTTPParser", swiftSettings: strict),
        .target(name: "Scoring", dependencies: ["CLlama"], swiftSettings: strict + llamaSwiftFlags),
        .target(
            name: "Server",
            dependencies: ["HTTPParser", "Scoring", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strict + llamaSwiftFlags
        ),
        .target(
            name: "ServeConfig",
            dependencies: ["Server", "Scoring", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strict + llamaSwiftFlags
        ),
        .target(name: "RewardBench", swiftSettings: strict),
        .executableTarget(
            name: "longrm",
            dependencies: [
                "Server", "ServeConfig", "Scoring", "RewardBench",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict + llamaSwiftFlags
        ),
        .executableTarget(name: "HTTPParserFuzz", dependencies: ["HTTPParser"], swiftSettings: strict),
        .testTarget(name: "HTTPParserTests", dependencies: ["HTTPParser"], swiftSettings: strict),
        .testTarget(name: "ScoringTests", dependencies: ["Scoring"], swiftSettings: strict + llamaSwiftFlags),
        .testTarget(
            name: "ServerTests",
            dependencies: ["Server", "ServeConfig", "HTTPParser", "Scoring"],
            swiftSettings: strict + llamaSwiftFlags
        ),
        .testTarget(
            name: "RewardBenchTests",
            dependencies: ["RewardBench"],
            swiftSettings: strict
        ),
    ],
    swiftLanguageModes: [.v6]
)
