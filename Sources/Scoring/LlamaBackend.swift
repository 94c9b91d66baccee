import CLlama
import Foundation
import Synchronization

/// One-time process set-up of llama.cpp: the CPU variant first, then the backend. Logs are silenced unless
/// LONGRM_LLAMA_LOG is set: llama.cpp prints hundreds of lines per model load, which would drown the
/// service's own structured logs. They can be captured for a while (`capturingLog`): llama.cpp reports some
/// facts, like its KV cache sizes, only there.
enum LlamaBackend {
    private static let state = Mutex<Result<CPUVariant, ScoringError>?>(nil)
    private static let echo = getenv("LONGRM_LLAMA_LOG") != nil
    /// Lines captured while a `capturingLog` call runs; nil otherwise.
    private static let captured = Mutex<[String]?>(nil)
    /// Serialises `capturingLog` calls, so each sees only its own lines.
    private static let captureLock = NSLock()

    /// Creates a context while no `capturingLog` call runs: llama.cpp reports each new context's KV caches in its
    /// log, and a capture must see only its own probe's report (tests load several models at once).
    static func creatingContext<T>(_ body: () -> T) -> T {
        captureLock.lock()
        defer { captureLock.unlock() }
        return body()
    }

    /// Runs `body` and returns the llama.cpp log lines it produced. Contexts made elsewhere wait for it
    /// (`creatingContext`); other lines (a model loading) may be among them.
    static func capturingLog(_ body: () -> Void) -> [String] {
        _ = try? ensureInitialized()
        captureLock.lock()
        defer { captureLock.unlock() }
        captured.withLock { $0 = [] }
        body()
        return captured.withLock { lines in
            defer { lines = nil }
            return lines ?? []
        }
    }

    /// The CPU variant in use. When none can run here, every call throws the same error: nothing of
    /// llama.cpp has started, so nothing can execute an instruction this CPU lacks.
    @discardableResult
    static func ensureInitialized() throws(ScoringError) -> CPUVariant {
        let result = state.withLock { state in
            if let state { return state }
            llama_log_set(
                { _, text, _ in
                    guard let text else { return }
                    if LlamaBackend.echo { FileHandle.standardError.write(Data(String(cString: text).utf8)) }
                    LlamaBackend.captured.withLock { lines in lines?.append(String(cString: text)) }
                }, nil)
            let loaded = Result { () throws(ScoringError) in try CPUVariantLoader.load() }
            if case .success = loaded { llama_backend_init() }
            state = loaded
            return loaded
        }
        return try result.get()
    }
}
