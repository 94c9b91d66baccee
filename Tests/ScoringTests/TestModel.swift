import Foundation
import Scoring
import Testing

/// The default model, loaded once per configuration for the whole suite. A missing model is a failure
/// with instructions, never a skip: these tests claim to test the engine.
enum TestModel {
    static var path: String {
        let env = ProcessInfo.processInfo.environment
        if let path = env["LONGRM_DEFAULT_MODEL"] { return path }
        let cache = env["LONGRM_CACHE"] ?? (env["HOME"] ?? "/root") + "/.cache/longrm"
        return cache + "/models/gemma-3-270m-q4_k_m.gguf"
    }

    /// One thread per engine: suites run concurrently, and spinning OpenMP threads on an oversubscribed
    /// 2-core machine slow everything down many times over.
    /// LONGRM_TEST_GPU_LAYERS offloads layers (-1 = all) for scripts/gpu-check.sh on a CUDA build.
    static let small: EngineConfiguration = {
        var configuration = EngineConfiguration(contextSize: 2048, threads: 1, parallelSequences: 8, cacheSlots: 4)
        configuration.gpuLayers = ProcessInfo.processInfo.environment["LONGRM_TEST_GPU_LAYERS"].flatMap { Int($0) } ?? 0
        return configuration
    }()

    private static let shared = Task { try await load(small) }
    /// For tests that assert on cache hits: no other suite's requests can evict its entries.
    private static let isolatedScorer = Task { try await load(small) }
    private static let unsharedScorer = Task { () throws -> Scorer in
        var configuration = small
        configuration.sharePrefix = false
        return try await load(configuration)
    }

    static func scorer() async throws -> Scorer { try await shared.value }
    static func unshared() async throws -> Scorer { try await unsharedScorer.value }
    static func isolated() async throws -> Scorer { try await isolatedScorer.value }

    static func load(_ configuration: EngineConfiguration) async throws -> Scorer {
        guard FileManager.default.fileExists(atPath: path) else {
            Issue.record("model missing at \(path): run `make setup` (scripts/setup.sh) first")
            throw ScoringError.modelLoadFailed("missing model")
        }
        return try await Scorer.load(modelPath: path, configuration: configuration)
    }
}

/// Deterministic generator for grounding cases: facts hidden in varied filler prose.
struct GroundingCases {
    struct Case {
        var context: String
        var question: String
        var grounded: String
        var wrong: String
    }

    private var state: UInt64

    init(seed: UInt64) { state = seed &* 0x9E37_79B9_7F4A_7C15 | 1 }

    mutating func next(_ bound: Int) -> Int {
        state ^= state << 13; state ^= state >> 7; state ^= state << 17
        return Int(state % UInt64(bound))
    }

    private static let subjects = [
        "The harbour office", "A quiet library", "The northern orchard", "An old railway depot",
        "The river ferry", "A mountain observatory", "The village bakery", "The city archive",
    ]
    private static let verbs = [
        "opens early on weekdays", "keeps a ledger of every visitor", "was repainted last spring",
        "hosts a small exhibition each autumn", "employs three seasonal workers",
        "is known for its long wooden benches", "receives deliveries on Thursdays",
        "closes during the winter storms",
    ]
    private static let tails = [
        "according to the regional guide.", "as most residents will tell you.",
        "which surprises many newcomers.", "despite the narrow access road.",
        "and the tradition continues today.", "so visitors should plan ahead.",
    ]

    mutating func filler(sentences: Int) -> [String] {
        (0..<sentences).map { _ in
            "\(Self.subjects[next(Self.subjects.count)]) \(Self.verbs[next(Self.verbs.count)]), \(Self.tails[next(Self.tails.count)])"
        }
    }

    /// One context holding `facts` locker codes, and one case per fact: half with a random wrong code, half
    /// with another locker's code from the same context (the harder, confusable kind).
    mutating func contextWithCases(facts: Int, fillerSentences: Int) -> [Case] {
        let lockers = (0..<facts).map { 10 + $0 * 7 + next(5) }
        let codes = (0..<facts).map { _ in 1000 + next(9000) }
        var sentences = filler(sentences: fillerSentences)
        for (locker, code) in zip(lockers, codes) {
            sentences.insert("The access code for locker \(locker) is \(code).", at: next(sentences.count + 1))
        }
        let context = sentences.joined(separator: " ")
        return lockers.indices.map { i in
            var wrongCode = i % 2 == 0 ? 1000 + next(9000) : codes[(i + 1) % facts]
            if wrongCode == codes[i] { wrongCode = codes[i] == 9999 ? 1000 : codes[i] + 1 }
            return Case(
                context: context, question: "What is the access code for locker \(lockers[i])?",
                grounded: "The access code for locker \(lockers[i]) is \(codes[i]).",
                wrong: "The access code for locker \(lockers[i]) is \(wrongCode).")
        }
    }
}
