import CLlama

/// The element type of the KV cache (`--kv-type`). q8_0 stores K and V in 8.5 bits per value instead of 16,
/// so a context costs ~53 % of its f16 bytes, at a small cost in precision (docs/PERFORMANCE.md measures it).
/// llama.cpp quantizes V only inside its flash-attention kernel, so q8_0 needs flash attention; both K and V
/// are quantized (K alone would save a quarter, not half, of the memory).
public enum KVCacheType: String, Sendable, Equatable, CaseIterable {
    case f16
    case q8_0

    var ggmlType: ggml_type {
        switch self {
        case .f16: return GGML_TYPE_F16
        case .q8_0: return GGML_TYPE_Q8_0
        }
    }

    /// Whether this cache type can run with flash attention on or off.
    public func isAllowed(flashAttention: Bool) -> Bool { self == .f16 || flashAttention }
}
