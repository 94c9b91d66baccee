// swift-tools-version:6.0
import Foundation
import PackageDescription

// llama.cpp is built by scripts/setup.sh into a cache outside the repository, in a directory keyed by the
// sdist and the CPU flavour it was built for; setup writes that prefix to <cache>/env.sh. LLAMA_PREFIX
// wins: the Makefile, scripts/test.sh and bench/run.sh export it from env.sh, because SwiftPM reuses this
// manifest's result until the manifest or the environment changes (a changed env.sh alone goes unnoticed).
let environment = ProcessInfo.processInfo.environment
let cacheRoot = environment["LONGRM_CACHE"] ?? (environment["HOME"] ?? "/root") + "/.cache/longrm"
func setUpPrefix() -> String? {
    guard let text = try? String(contentsOfFile: cacheRoot + "/env.sh", encoding: .utf8) else { return nil }
    let key = "LLAMA_PREFIX="
    return text.split(separator: "\n").first { $0.hasPrefix(key) }.map { String($0.dropFirst(key.count)) }
}
// Before set-up the path names the fix: the compiler then reports "llama.h not found" under it.
let llamaPrefix = environment["LLAMA_PREFIX"] ?? setUpPrefix() ?? "\(cacheRoot)/run-scripts-setup.sh-first"

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
