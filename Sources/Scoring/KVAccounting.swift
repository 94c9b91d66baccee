import CLlama
import Foundation

/// What the KV cache of one engine costs and holds, for the loaded model and settings.
///
/// One stream (cache sequence) holds one cached context of up to `window` tokens: full-attention layers keep
/// every token, sliding-window layers at most `slidingCells` (llama.cpp sizes them window + micro-batch,
/// rounded to 256). Streams are allocated up front, so this is also the memory the cache will use.
public struct KVAccounting: Sendable, Equatable {
    /// K + V bytes per token in the full-attention layers.
    public var bytesPerToken: Int
    /// K + V bytes of one stream's sliding-window layers (0 for models without them).
    public var slidingBytesPerStream: Int
    /// Tokens one stream holds: the largest context + prompt + response.
    public var window: Int
    /// Streams per engine (= `cache-slots`): contexts cached at once.
    public var streamsPerWorker: Int
    /// Streams per engine that judge generation leases (`--judge-sequences`), a full window each.
    public var generationStreams: Int = 0
    public var workers: Int
    /// Element type of K and V (`--kv-type`); the bytes above are measured with it.
    public var cacheType: KVCacheType = .f16

    public var bytesPerStream: Int { bytesPerToken * window + slidingBytesPerStream }
    public var totalBytes: Int { bytesPerStream * (streamsPerWorker + generationStreams) * workers }

    /// Cache streams per engine that `budgetBytes` pays for, after the generation streams.
    public func streams(forBudget budgetBytes: Int) -> Int {
        budgetBytes / (bytesPerStream * workers) - generationStreams
    }

    /// Measures the model's KV sizes: llama.cpp reports each cache it creates (layers, cells, bytes), so a
    /// small probe context of one stream is created and freed. Layer patterns (Gemma 3 keeps 3 of 18 layers
    /// at full attention) are not in the GGUF metadata; llama.cpp's own report is the truth.
    static func measure(model: Model, configuration: EngineConfiguration) throws(ScoringError) -> KVAccounting {
        let window = configuration.window(for: model)
        guard model.isCausal else {
            return KVAccounting(
                bytesPerToken: 0, slidingBytesPerStream: 0, window: window,
                streamsPerWorker: configuration.cacheSlots, workers: configuration.workers)
        }
        let generationStreams = configuration.generationStreams(for: model)
        let probeCells = 2048
        var params = llama_context_default_params()
        params.n_ctx = UInt32(probeCells)
        params.n_batch = UInt32(min(configuration.batchSize, probeCells))
        params.n_ubatch = UInt32(min(configuration.microBatchSize, probeCells))
        params.n_seq_max = 1
        params.n_threads = 1
        params.n_threads_batch = 1
        // The cache type changes the bytes; q8_0 V exists only with flash attention, so the probe uses it too.
        params.type_k = configuration.kvType.ggmlType
        params.type_v = configuration.kvType.ggmlType
        params.flash_attn_type =
            configuration.flashAttention ? LLAMA_FLASH_ATTN_TYPE_ENABLED : LLAMA_FLASH_ATTN_TYPE_DISABLED
        params.kv_unified = false
        params.swa_full = false
        params.no_perf = true
        let lines = LlamaBackend.capturingLog {
            if let context = llama_init_from_model(model.pointer, params) { llama_free(context) }
        }
        let caches = lines.compactMap(CacheReport.init)
        guard let full = caches.first else {
            throw .engineFailure("llama.cpp did not report its KV cache sizes: cannot account for the KV budget")
        }
        // Full-attention cache first; with sliding-window layers, llama.cpp creates that cache second.
        let sliding = caches.count > 1 ? caches[1] : nil
        let slidingCells =
            sliding.map { _ in min(window, roundUp(model.slidingWindow + configuration.microBatchSize, 256)) } ?? 0
        return KVAccounting(
            bytesPerToken: full.bytesPerCell,
            slidingBytesPerStream: (sliding?.bytesPerCell ?? 0) * slidingCells,
            window: window, streamsPerWorker: configuration.cacheSlots, generationStreams: generationStreams,
            workers: configuration.workers, cacheType: configuration.kvType)
    }

    /// One "llama_kv_cache: size = 24.00 MiB (  8192 cells,   3 layers,  1/1 seqs), K (f16): …" line.
    struct CacheReport {
        var cells: Int
        var bytesPerCell: Int

        init?(_ line: String) {
            guard let size = line.range(of: "llama_kv_cache: size ="),
                let unit = line.range(of: "MiB", range: size.upperBound..<line.endIndex),
                let mib = Double(line[size.upperBound..<unit.lowerBound].trimmingCharacters(in: .whitespaces)),
                let open = line.firstIndex(of: "("),
                let cells = Int(line[line.index(after: open)...].split(separator: " ").first ?? ""), cells > 0
            else { return nil }
            self.cells = cells
            // Two decimals of MiB over 2048 cells: rounded to whole bytes per cell, exact for f16/f32 caches and
            // within 3 bytes per cell for q8_0 (34 bytes per 32 values).
            bytesPerCell = Int((mib * 1_048_576 / Double(cells)).rounded())
        }
    }
}

private func roundUp(_ value: Int, _ multiple: Int) -> Int { (value + multiple - 1) / multiple * multiple }

/// A KV budget as the operator states it: tokens (cells of one window's worth each) or bytes.
public enum KVBudget: Sendable, Equatable, CustomStringConvertible {
    case tokens(Int)
    case bytes(Int)

    /// "262144" (tokens), "262144t", "6GiB", "512MiB", "2000000000B".
    public init?(parsing text: String) {
        let t = text.trimmingCharacters(in: .whitespaces)
        let units: [(String, Int)] = [
            ("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10), ("GB", 1_000_000_000),
            ("MB", 1_000_000), ("B", 1), ("t", 0), ("", 0),
        ]
        for (suffix, scale) in units where t.hasSuffix(suffix) {
            guard let value = Double(t.dropLast(suffix.count)), value > 0, value < 1e18 else { continue }
            self = scale == 0 ? .tokens(Int(value)) : .bytes(Int(value * Double(scale)))
            return
        }
        return nil
    }

    func bytes(_ accounting: KVAccounting) -> Int {
        switch self {
        case .bytes(let b): return b
        case .tokens(let t):
            return t * accounting.bytesPerToken + (t / max(accounting.window, 1)) * accounting.slidingBytesPerStream
        }
    }

    public var description: String {
        switch self {
        case .tokens(let t): return "\(t) tokens"
        case .bytes(let b): return Bytes.text(b)
        }
    }
}

public enum Bytes {
    public static func text(_ bytes: Int) -> String {
        let b = Double(bytes)
        if bytes >= 1 << 30 { return String(format: "%.2f GiB", b / 1_073_741_824) }
        if bytes >= 1 << 20 { return String(format: "%.1f MiB", b / 1_048_576) }
        return "\(bytes) B"
    }
}
