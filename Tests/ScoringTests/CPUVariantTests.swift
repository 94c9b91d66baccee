import Foundation
import Testing

@testable import Scoring

/// Which llama.cpp CPU module runs: the choice (pure), and the one this process really loaded.
@Suite struct CPUVariantTests {
    typealias Candidate = CPUVariantChoice.Candidate
    /// Scores as ggml reports them on an AVX2 host without AVX-512: the AVX-512 and AMX modules answer 0.
    static let avx2Host = [
        Candidate(name: "x64", score: 1), Candidate(name: "haswell", score: 64),
        Candidate(name: "skylakex", score: 0), Candidate(name: "sapphirerapids", score: 0),
    ]
    /// Scores on a Xeon whose CPUID lists AMX: the AMX module scores highest.
    static let amxHost = [
        Candidate(name: "x64", score: 1), Candidate(name: "zen4", score: 1984),
        Candidate(name: "sapphirerapids", score: 4032),
    ]

    func choose(_ candidates: [Candidate], forced: String? = nil, amx: Bool = false) throws(ScoringError) -> CPUVariant
    {
        try CPUVariantChoice.choose(candidates, forced: forced, amxGranted: amx, directory: "/lib")
    }

    func refusal(_ body: () throws(ScoringError) -> CPUVariant) -> String? {
        do {
            let variant = try body()
            Issue.record("expected a refusal, got \(variant.name)")
            return nil
        } catch let .modelLoadFailed(message) {
            return message
        } catch {
            Issue.record("unexpected error \(error)")
            return nil
        }
    }

    @Test func theHighestScoringRunnableVariantWins() throws {
        let variant = try choose(Self.avx2Host)
        #expect(variant.name == "haswell")
        #expect(variant.note == nil)
        #expect(variant.available == ["haswell", "sapphirerapids", "skylakex", "x64"])
    }

    @Test func amxOnlyWhenTheKernelGrantsIt() throws {
        #expect(try choose(Self.amxHost, amx: false).name == "zen4")
        #expect(try choose(Self.amxHost, amx: true).name == "sapphirerapids")
        let message = refusal { () throws(ScoringError) in
            try choose(Self.amxHost, forced: "sapphirerapids", amx: false)
        }
        #expect(message?.contains("lacks instructions") == true)
    }

    @Test func forcingTheBaselineWorksEverywhere() throws {
        let variant = try choose(Self.avx2Host, forced: "x64")
        #expect(variant.name == "x64")
        #expect(variant.note?.contains("LONGRM_CPU_VARIANT") == true)
    }

    @Test func forcingAVariantThisCPUCannotRunIsRefused() {
        let message = refusal { () throws(ScoringError) in try choose(Self.avx2Host, forced: "skylakex") }
        #expect(message?.contains("LONGRM_CPU_VARIANT=skylakex: this CPU lacks instructions") == true)
    }

    @Test func forcingAVariantNotBuiltNamesTheBuiltOnes() {
        let message = refusal { () throws(ScoringError) in try choose(Self.avx2Host, forced: "zen4") }
        #expect(
            message?.contains("no libggml-cpu-zen4.so in /lib (built: haswell, sapphirerapids, skylakex, x64)") == true)
    }

    /// A cache built on an AVX-512 host, used on this AVX2 one: the baseline stands in, and says so.
    @Test func aCacheBuiltForAnotherCPUFallsBackToTheBaselineWithAWarning() throws {
        let variant = try choose([Candidate(name: "zen4", score: 0), Candidate(name: "x64", score: 1)])
        #expect(variant.name == "x64")
        #expect(variant.note?.contains("zen4 cannot run on this CPU") == true)
        #expect(variant.note?.contains("scripts/setup.sh") == true)
    }

    @Test func aCacheWithNothingRunnableIsRefused() {
        let message = refusal { () throws(ScoringError) in try choose([Candidate(name: "zen4", score: 0)]) }
        #expect(message?.contains("no llama.cpp CPU variant in /lib runs on this CPU (built: zen4)") == true)
        #expect(message?.contains("run scripts/setup.sh on this host") == true)
    }

    @Test func moduleFileNames() {
        #expect(CPUVariantChoice.tag(ofFile: "libggml-cpu-haswell.so") == "haswell")
        #expect(CPUVariantChoice.tag(ofFile: "libggml-cpu.so") == nil)
        #expect(CPUVariantChoice.tag(ofFile: "libggml-cpu-.so") == nil)
        #expect(CPUVariantChoice.tag(ofFile: "libggml-cuda.so") == nil)
        #expect(CPUVariantChoice.tag(ofFile: "libggml-cpu-x64.so.0") == nil)
    }

    /// The model this suite loads runs on a variant set-up built, and it is one this CPU runs: the baseline
    /// only when it was forced (the engine logs the variant; ops_cpu_variant.sh checks the served one).
    @Test func theLoadedModelReportsItsVariant() async throws {
        let scorer = try await TestModel.scorer()
        let variant = scorer.model.cpuVariant
        #expect(variant.name == "static" || variant.available.contains(variant.name))
        if let flavor = ProcessInfo.processInfo.environment["LLAMA_CPU_FLAVOR"], flavor != "all",
            ProcessInfo.processInfo.environment["LONGRM_CPU_VARIANT"] == nil
        {
            #expect(variant.name == flavor)
        }
    }
}
