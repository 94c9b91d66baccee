import CLlama

/// Reads the `longrm.head.*` keys of a GGUF file with ggml's GGUF reader (metadata only, no tensor data).
enum HeadMetadata {
    static let prefix = "longrm.head."

    /// nil when the file carries no head; an error when it carries a malformed one.
    static func read(path: String, hiddenSize: Int) throws(ScoringError) -> ScoreHead? {
        let params = gguf_init_params(no_alloc: true, ctx: nil)
        guard let file = gguf_init_from_file(path, params) else {
            throw .modelLoadFailed("\(path): the GGUF header could not be read")
        }
        defer { gguf_free(file) }
        let weightKey = gguf_find_key(file, prefix + "weight")
        guard weightKey >= 0 else { return nil }
        func fail(_ reason: String) -> ScoringError { .modelLoadFailed("\(path): classifier head \(reason)") }

        guard let weight = floats(file, weightKey) else { throw fail("weight is not an array of float32") }
        let labelsKey = gguf_find_key(file, prefix + "labels")
        var labels: [String] = []
        if labelsKey >= 0 {
            guard gguf_get_kv_type(file, labelsKey) == GGUF_TYPE_ARRAY,
                gguf_get_arr_type(file, labelsKey) == GGUF_TYPE_STRING
            else {
                throw fail("labels are not an array of strings")
            }
            labels = (0..<gguf_get_arr_n(file, labelsKey)).map {
                String(cString: gguf_get_arr_str(file, labelsKey, $0))
            }
        }
        if labels.isEmpty {
            guard hiddenSize > 0, weight.count % hiddenSize == 0 else {
                throw fail("has \(weight.count) weights, not a multiple of the hidden size \(hiddenSize)")
            }
            labels = (0..<weight.count / hiddenSize).map { "LABEL_\($0)" }
        }
        guard weight.count == labels.count * hiddenSize else {
            throw fail(
                "has \(weight.count) weights for \(labels.count) labels: expected \(labels.count) × hidden size \(hiddenSize) = \(labels.count * hiddenSize); was it converted from another model?"
            )
        }
        var bias: [Float]?
        let biasKey = gguf_find_key(file, prefix + "bias")
        if biasKey >= 0 {
            guard let values = floats(file, biasKey), values.count == labels.count else {
                throw fail("bias must hold \(labels.count) float32 values")
            }
            bias = values
        }
        return ScoreHead(
            labels: labels, hiddenSize: hiddenSize, weight: weight, bias: bias,
            padToken: int32(file, prefix + "pad_token_id"), stepSeparator: string(file, prefix + "step_separator"),
            sourceArchitecture: string(file, prefix + "source_architecture") ?? "unknown")
    }

    private static func floats(_ file: OpaquePointer, _ key: Int64) -> [Float]? {
        guard gguf_get_kv_type(file, key) == GGUF_TYPE_ARRAY, gguf_get_arr_type(file, key) == GGUF_TYPE_FLOAT32,
            let data = gguf_get_arr_data(file, key)
        else { return nil }
        let count = gguf_get_arr_n(file, key)
        return Array(UnsafeBufferPointer(start: data.assumingMemoryBound(to: Float.self), count: count))
    }

    private static func string(_ file: OpaquePointer, _ name: String) -> String? {
        let key = gguf_find_key(file, name)
        guard key >= 0, gguf_get_kv_type(file, key) == GGUF_TYPE_STRING, let value = gguf_get_val_str(file, key) else {
            return nil
        }
        return String(cString: value)
    }

    private static func int32(_ file: OpaquePointer, _ name: String) -> Int32? {
        let key = gguf_find_key(file, name)
        guard key >= 0 else { return nil }
        switch gguf_get_kv_type(file, key) {
        case GGUF_TYPE_INT32: return gguf_get_val_i32(file, key)
        case GGUF_TYPE_UINT32: return Int32(truncatingIfNeeded: gguf_get_val_u32(file, key))
        case GGUF_TYPE_INT64: return Int32(truncatingIfNeeded: gguf_get_val_i64(file, key))
        default: return nil
        }
    }
}
