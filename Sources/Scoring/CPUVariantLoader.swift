import CLlama
import Foundation

/// Loads the CPU module that `CPUVariantChoice` picks, and any GPU backend module built beside it, before
/// llama.cpp starts (`llama_backend_init` would otherwise load the best-scoring one itself, AMX included,
/// and only from the executable's directory).
enum CPUVariantLoader {
    static func load() throws(ScoringError) -> CPUVariant {
        // Backends linked into libggml: a library built without GGML_BACKEND_DL, nothing to choose.
        if ggml_backend_reg_count() > 0 { return CPUVariant(name: "static", available: [], note: nil) }
        let directory = try libraryDirectory()
        let files = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).sorted()
        let candidates = files.compactMap { file in
            CPUVariantChoice.tag(ofFile: file).map {
                CPUVariantChoice.Candidate(name: $0, score: score(of: "\(directory)/\(file)"))
            }
        }
        let forced = getenv("LONGRM_CPU_VARIANT").map { String(cString: $0) }.flatMap { $0.isEmpty ? nil : $0 }
        // The AMX probe forks a child: only worth it where an AMX module could be chosen.
        let amxCandidate = candidates.contains { CPUVariant.amxVariants.contains($0.name) && $0.score > 0 }
        let variant = try CPUVariantChoice.choose(
            candidates, forced: forced, amxGranted: amxCandidate && longrm_amx_works() != 0,
            directory: directory)
        guard ggml_backend_load("\(directory)/libggml-cpu-\(variant.name).so") != nil else {
            throw .modelLoadFailed("llama.cpp could not load its CPU variant \(variant.name) from \(directory)")
        }
        for file in files where isOtherBackend(file) {
            _ = ggml_backend_load("\(directory)/\(file)")  // a GPU module without its driver declines; CPU still runs
        }
        return variant
    }

    /// The module's own verdict on this CPU (it checks CPUID with code compiled for any x86-64); 0 when it
    /// cannot be opened or has no verdict.
    private static func score(of path: String) -> Int {
        guard let handle = dlopen(path, RTLD_NOW | RTLD_LOCAL) else { return 0 }
        defer { dlclose(handle) }
        guard let symbol = dlsym(handle, "ggml_backend_score") else { return 0 }
        let score = unsafeBitCast(symbol, to: (@convention(c) () -> Int32).self)
        return Int(score())
    }

    /// GPU and other non-CPU backend modules (libggml-cuda.so, ...), not libggml/libggml-base themselves.
    private static func isOtherBackend(_ file: String) -> Bool {
        file.hasPrefix("libggml-") && file.hasSuffix(".so") && !file.hasPrefix("libggml-cpu")
            && !file.hasPrefix("libggml-base")
    }

    /// Where libggml was loaded from: the modules are installed beside it (cache prefix or image).
    private static func libraryDirectory() throws(ScoringError) -> String {
        guard let file = longrm_ggml_library_path() else {
            throw .modelLoadFailed("cannot tell where libggml was loaded from, so its CPU modules cannot be found")
        }
        return URL(fileURLWithPath: String(cString: file)).deletingLastPathComponent().path
    }
}
