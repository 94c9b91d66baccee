import CLlama
import Foundation

/// A loaded GGUF model. llama.cpp treats `llama_model` as read-only after loading, and tokenisation is
/// documented thread-safe, so one instance is shared by every worker.
public final class Model: @unchecked Sendable {  // safe: the pointers are only read after init, freed in deinit
    let pointer: OpaquePointer
    let vocab: OpaquePointer
    public let path: String
    public let name: String
    public let trainedContext: Int
    public let vocabularySize: Int
    public let classifierOutputs: Int
    public let classifierLabels: [String]
    /// A sequence-classification head applied to hidden states in Swift (converted reward models); nil for models
    /// whose head llama.cpp applies itself (rank pooling) and for models without one.
    public let head: ScoreHead?
    /// The step separator's token, when the head names one (process reward models).
    let stepSeparatorToken: Int32?
    public let chatTemplate: String?
    /// Encoder-only models (BERT-like) attend both ways: their sequences cannot share a decoded prefix.
    public let isCausal: Bool
    /// Tokens a sliding-window attention layer sees (0: every layer attends to the whole sequence). With a
    /// sliding window, llama.cpp reuses KV cells the window has left behind, which limits what may be
    /// decoded inside a cached prefix's own stream (`Session`).
    public let slidingWindow: Int
    public let addsBOS: Bool
    /// SentencePiece tokenizers of the Llama-2/Mistral kind put a space before every text they tokenize, so text
    /// tokenised in pieces differs from the same text tokenised whole (transformers tokenises the whole render).
    let addsSpacePrefix: Bool
    /// The text of `startTokens` (`<s>`, `<bos>`, `<|begin_of_text|>`): rendered text that begins with it already
    /// carries the BOS.
    let startText: String
    /// Tokens every sequence starts with (BOS or CLS) and, for encoders, ends with (SEP/EOS).
    let startTokens: [Int32]
    let endTokens: [Int32]
    public let loadSeconds: Double
    /// The llama.cpp CPU module computing for this process (one per process, chosen at the first load).
    public let cpuVariant: CPUVariant

    public init(path: String, useExtraBuffers: Bool = true, gpuLayers: Int = 0) throws(ScoringError) {
        cpuVariant = try LlamaBackend.ensureInitialized()
        try Model.checkFile(path)
        let started = Date()
        var params = llama_model_default_params()
        params.n_gpu_layers = Int32(gpuLayers)
        params.use_extra_bufts = useExtraBuffers
        guard let model = llama_model_load_from_file(path, params) else {
            throw .modelLoadFailed("llama.cpp could not load \(path): not a valid GGUF model for this engine")
        }
        pointer = model
        vocab = llama_model_get_vocab(model)
        self.path = path
        name =
            Model.metadata(model, "general.name")
            ?? URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
        trainedContext = Int(llama_model_n_ctx_train(model))
        vocabularySize = Int(llama_vocab_n_tokens(vocab))
        // llama.cpp reports n_cls_out = 1 for every model; only a model converted as a classifier/reranker
        // (rank pooling in its metadata, or classifier labels) really has a head.
        let arch = Model.metadata(model, "general.architecture") ?? ""
        let hasHead =
            Model.metadata(model, "\(arch).pooling_type") == "4"
            || Model.metadata(model, "\(arch).classifier.output_labels") != nil
        let head: ScoreHead?
        do throws(ScoringError) {
            head = try HeadMetadata.read(path: path, hiddenSize: Int(llama_model_n_embd_out(model)))
        } catch {
            llama_model_free(model)
            throw error
        }
        self.head = head
        if let head {
            classifierOutputs = head.labels.count
            classifierLabels = head.labels
        } else {
            classifierOutputs = hasHead ? Int(llama_model_n_cls_out(model)) : 0
            classifierLabels = (0..<UInt32(hasHead ? Int(llama_model_n_cls_out(model)) : 0)).map { i in
                llama_model_cls_label(model, i).map { String(cString: $0) } ?? "score_\(i)"
            }
        }
        chatTemplate = llama_model_chat_template(model, nil).map { String(cString: $0) }
        isCausal = Model.hasCausalAttention(model)
        slidingWindow = Int(llama_model_n_swa(model))
        addsBOS = llama_vocab_get_add_bos(vocab)
        // What the tokenizer adds around a text (BOS; CLS … SEP for WordPiece, whatever its flags say),
        // found by tokenising a probe with and without special tokens.
        let vocab = self.vocab
        func probe(_ special: Bool) -> [Int32] {
            var tokens = [Int32](repeating: 0, count: 16)
            let n = llama_tokenize(vocab, "a", 1, &tokens, 16, special, false)
            return Array(tokens.prefix(Int(max(0, n))))
        }
        let plain = probe(false), special = probe(true)
        if !plain.isEmpty, let range = special.firstRange(of: plain) {
            startTokens = Array(special[..<range.lowerBound])
            endTokens = Array(special[range.upperBound...])
        } else {
            let bos = llama_vocab_bos(vocab)
            startTokens = addsBOS && bos >= 0 ? [bos] : []
            endTokens = []
        }
        startText = startTokens.map { Model.piece($0, vocab: vocab) }.joined()
        addsSpacePrefix = plain.first.map { Model.piece($0, vocab: vocab).hasPrefix(" ") } ?? false
        let separatorTokens = head?.stepSeparator.map {
            Model.tokenize($0, vocab: vocab, addSpecial: false, parseSpecial: true)
        }
        stepSeparatorToken = separatorTokens?.count == 1 ? separatorTokens?[0] : nil
        loadSeconds = Date().timeIntervalSince(started)
        // Thrown after every property is set, so deinit frees the model.
        if head != nil && !isCausal {
            throw .modelLoadFailed("\(path): a classifier head in longrm.head.* needs a causal model, not an encoder")
        }
        if let separator = head?.stepSeparator, stepSeparatorToken == nil {
            // One token, so that "the head at every separator" means one position per step.
            throw .modelLoadFailed(
                "\(path): step separator \"\(separator)\" is \(separatorTokens?.count ?? 0) tokens; it must be exactly one"
            )
        }
    }

    deinit { llama_model_free(pointer) }

    /// Tokens of `text`. `addSpecial` adds the model's BOS (and EOS/SEP where configured); special-token
    /// text inside user input is never parsed as control tokens, so users cannot inject them.
    public func tokenize(_ text: String, addSpecial: Bool = false) -> [Int32] {
        tokenize(text, addSpecial: addSpecial, parseSpecial: false)
    }

    /// `parseSpecial` only for chat-template markup, never for user text.
    func tokenize(_ text: String, addSpecial: Bool, parseSpecial: Bool) -> [Int32] {
        Model.tokenize(text, vocab: vocab, addSpecial: addSpecial, parseSpecial: parseSpecial)
    }

    /// Static, so `init` can tokenise before every property is set.
    private static func tokenize(_ text: String, vocab: OpaquePointer, addSpecial: Bool, parseSpecial: Bool) -> [Int32]
    {
        if text.isEmpty && !addSpecial { return [] }
        var utf8 = Array(text.utf8)
        let length = Int32(utf8.count)
        var capacity = Int(length) + 8
        while true {
            var tokens = [Int32](repeating: 0, count: capacity)
            let n = utf8.withUnsafeMutableBufferPointer { bytes in
                bytes.withMemoryRebound(to: CChar.self) { chars in
                    llama_tokenize(vocab, chars.baseAddress, length, &tokens, Int32(capacity), addSpecial, parseSpecial)
                }
            }
            if n >= 0 { return Array(tokens.prefix(Int(n))) }
            if n == Int32.min { return [] }
            capacity = Int(-n)
        }
    }

    /// One token per label, for reading verdicts from a single logits row: the label after a space when that
    /// is one token (what follows "Answer:"), else the label's first token.
    func labelTokens(_ labels: [String]) -> [Int32] {
        labels.map { label in
            let spaced = tokenize(" " + label)
            return spaced.count == 1 ? spaced[0] : tokenize(label).first ?? 0
        }
    }

    /// The text of one token (special tokens included).
    public func piece(_ token: Int32) -> String { Model.piece(token, vocab: vocab) }

    private static func piece(_ token: Int32, vocab: OpaquePointer) -> String {
        var buffer = [CChar](repeating: 0, count: 64)
        let n = llama_token_to_piece(vocab, token, &buffer, Int32(buffer.count), 0, true)
        guard n > 0 else { return "" }
        return String(decoding: buffer.prefix(Int(n)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The model's chat template applied by llama.cpp's built-in template engine, nil when the model has
    /// none or llama.cpp does not know its family.
    func applyChatTemplate(_ messages: [ChatMessage], addAssistantHeader: Bool) -> String? {
        guard let template = chatTemplate else { return nil }
        return Model.renderChat(template: template, messages, addAssistantHeader: addAssistantHeader)
    }

    /// `template`: a chat template from a GGUF or one of llama.cpp's template names (`chatml`, `gemma`, …).
    static func renderChat(template: String, _ messages: [ChatMessage], addAssistantHeader: Bool) -> String? {
        let roles = messages.map { strdup($0.role) }
        let contents = messages.map { strdup($0.content) }
        defer { (roles + contents).forEach { free($0) } }
        var chat = zip(roles, contents).map { llama_chat_message(role: $0, content: $1) }
        var capacity = Int32(messages.reduce(0) { $0 + $1.content.utf8.count + $1.role.utf8.count } * 2 + 256)
        while true {
            var buffer = [CChar](repeating: 0, count: Int(capacity))
            let n = llama_chat_apply_template(template, &chat, chat.count, addAssistantHeader, &buffer, capacity)
            if n < 0 { return nil }
            if n <= capacity {
                return String(decoding: buffer.prefix(Int(n)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
            }
            capacity = n
        }
    }

    /// llama.cpp has no public query for causal attention; the GGUF key and the known encoder families decide.
    private static func hasCausalAttention(_ model: OpaquePointer) -> Bool {
        let arch = metadata(model, "general.architecture") ?? ""
        if let flag = metadata(model, "\(arch).attention.causal") { return flag != "false" }
        let encoders: Set<String> = [
            "bert", "nomic-bert", "nomic-bert-moe", "jina-bert-v2", "jina-bert-v3",
            "neo-bert", "modern-bert", "eurobert", "t5encoder", "gemma-embedding",
        ]
        return !encoders.contains(arch) && !(llama_model_has_encoder(model) && !llama_model_has_decoder(model))
    }

    static func metadata(_ model: OpaquePointer, _ key: String) -> String? {
        var buffer = [CChar](repeating: 0, count: 512)
        let n = llama_model_meta_val_str(model, key, &buffer, buffer.count)
        guard n >= 0 else { return nil }
        return String(
            decoding: buffer.prefix(min(Int(n), buffer.count - 1)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// llama.cpp aborts the process on some malformed files; catch the common cases first with clear errors.
    static func checkFile(_ path: String) throws(ScoringError) {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw .modelLoadFailed("model file not found or not readable: \(path)")
        }
        defer { try? handle.close() }
        let magic = (try? handle.read(upToCount: 4)) ?? Data()
        guard magic == Data("GGUF".utf8) else {
            throw .modelLoadFailed("\(path) is not a GGUF file (bad magic)")
        }
    }
}
