import CLlama
import Foundation
import Synchronization

/// One-time process set-up of llama.cpp. Logs are silenced unless LONGRM_LLAMA_LOG is set: llama.cpp prints
/// hundreds of lines per model load, which would drown the service's own structured logs.
enum LlamaBackend {
    private static let initialized = Mutex(false)

    static func ensureInitialized() {
        initialized.withLock { done in
            guard !done else { return }
            llama_backend_init()
            if getenv("LONGRM_LLAMA_LOG") == nil {
                llama_log_set({ _, _, _ in }, nil)
            }
            done = true
        }
    }
}
