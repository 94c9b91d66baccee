import CLlama
import Foundation
import Synchronization

/// One-time process set-up of llama.cpp: the CPU variant first, then the backend. Logs are silenced unless
/// LONGRM_LLAMA_LOG is set: llama.cpp prints hundreds of lines per model load, which would drown the
/// service's own structured logs.
enum LlamaBackend {
    private static let state = Mutex<Result<CPUVariant, ScoringError>?>(nil)

    /// The CPU variant in use. When none can run here, every call throws the same error: nothing of
    /// llama.cpp has started, so nothing can execute an instruction this CPU lacks.
    @discardableResult
    static func ensureInitialized() throws(ScoringError) -> CPUVariant {
        let result = state.withLock { state in
            if let state { return state }
            if getenv("LONGRM_LLAMA_LOG") == nil {
                llama_log_set({ _, _, _ in }, nil)
            }
            let loaded = Result { () throws(ScoringError) in try CPUVariantLoader.load() }
            if case .success = loaded { llama_backend_init() }
            state = loaded
            return loaded
        }
        return try result.get()
    }
}
