/// The llama.cpp CPU module this process computes with.
///
/// scripts/setup.sh builds the CPU backend as loadable modules, `libggml-cpu-<variant>.so` beside libggml
/// (the host's best variant and the x64 baseline, or all fourteen upstream variants for an image). Each module
/// reports a score: 0 when this CPU lacks an instruction set it was compiled for, so choosing by score never
/// runs code the CPU cannot execute (no SIGILL), whichever host the cache or image was built on.
public struct CPUVariant: Sendable, Equatable {
    /// The module's tag ("haswell", "zen4", "x64"), or "static" for a library built without modules.
    public let name: String
    /// Every variant found beside libggml, runnable here or not.
    public let available: [String]
    /// Why this is not simply the fastest variant built (forced, or the baseline standing in), for the log.
    public let note: String?

    public init(name: String, available: [String], note: String?) {
        self.name = name
        self.available = available
        self.note = note
    }

    /// The variant that needs only x86-64: it runs on every host.
    public static let baseline = "x64"
    /// Variants compiled with AMX kernels: chosen only when AMX instructions really run (`longrm_amx_works`),
    /// since some virtual machines report AMX in CPUID without enabling it.
    static let amxVariants: Set<String> = ["sapphirerapids"]
}

/// The choice itself, free of I/O: which module to load, given each module's score on this CPU.
enum CPUVariantChoice {
    struct Candidate: Equatable {
        var name: String
        /// ggml's score for this CPU: 0 = it cannot run here; higher = more instruction sets used.
        var score: Int
    }

    static func choose(
        _ candidates: [Candidate], forced: String?, amxGranted: Bool,
        directory: String
    ) throws(ScoringError) -> CPUVariant {
        let names = candidates.map(\.name).sorted()
        let listed = names.isEmpty ? "none" : names.joined(separator: ", ")
        if let forced {
            guard let candidate = candidates.first(where: { $0.name == forced }) else {
                throw .modelLoadFailed(
                    "LONGRM_CPU_VARIANT=\(forced): no libggml-cpu-\(forced).so in \(directory) (built: \(listed))")
            }
            guard candidate.score > 0, amxGranted || !CPUVariant.amxVariants.contains(forced) else {
                throw .modelLoadFailed(
                    "LONGRM_CPU_VARIANT=\(forced): this CPU lacks instructions that variant needs; "
                        + "unset LONGRM_CPU_VARIANT or choose another (built: \(listed))")
            }
            return CPUVariant(name: forced, available: names, note: "forced by LONGRM_CPU_VARIANT")
        }
        let runnable = candidates.filter { $0.score > 0 && (amxGranted || !CPUVariant.amxVariants.contains($0.name)) }
        guard let best = runnable.max(by: { $0.score < $1.score }) else {
            throw .modelLoadFailed(
                "no llama.cpp CPU variant in \(directory) runs on this CPU (built: \(listed)): "
                    + "the cache was built for another CPU; run scripts/setup.sh on this host, then rebuild (make build)"
            )
        }
        let fastestBuilt = candidates.filter { $0.name != CPUVariant.baseline }
        let note =
            best.name == CPUVariant.baseline && !fastestBuilt.isEmpty
            ? "the x64 baseline stands in (slow): \(fastestBuilt.map(\.name).sorted().joined(separator: ", ")) cannot run "
                + "on this CPU; run scripts/setup.sh on this host, then rebuild (make build), for a fast build"
            : nil
        return CPUVariant(name: best.name, available: names, note: note)
    }

    /// The tag in a module's file name: `libggml-cpu-haswell.so` → "haswell".
    static func tag(ofFile name: String) -> String? {
        let prefix = "libggml-cpu-", suffix = ".so"
        guard name.hasPrefix(prefix), name.hasSuffix(suffix), name.count > prefix.count + suffix.count else {
            return nil
        }
        return String(name.dropFirst(prefix.count).dropLast(suffix.count))
    }
}
