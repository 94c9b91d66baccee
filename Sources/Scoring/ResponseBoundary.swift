import Foundation

/// Where the response starts in a query that a chat template rendered (OpenRLHF's `query`: prompt + response,
/// sent without `prompts`): right after the last assistant header. Pure text work, no model needed.
///
/// The common headers are what llama.cpp 0.3.36's built-in templates emit for the assistant turn
/// (`src/llama-chat.cpp`, `llm_chat_apply_template`, the `add_ass` branches), which are in turn the
/// families' own Jinja templates on Hugging Face.
public struct AssistantHeader: Sendable, Equatable {
    public enum Family: String, Sendable, Equatable, CaseIterable {
        /// Derived from the loaded model's own chat template (see `AssistantHeader.derived`).
        case modelTemplate = "model_template"
        /// `<|im_start|>assistant\n`: ChatML (Qwen 1.5–3, Yi, SmolLM, OpenHermes, …).
        case chatML = "chatml"
        /// `<|start_header_id|>assistant<|end_header_id|>\n\n`: Llama 3.x.
        case llama3 = "llama3"
        /// `<start_of_turn>model\n`: Gemma 1–3.
        case gemma = "gemma"
        /// `[/INST]`: Mistral v1/v3/v7 and Llama 2 (the assistant text follows the user turn's closing tag).
        case mistral = "mistral"
        /// `<|assistant|>\n`: Phi-3, Zephyr, Falcon 3, ChatGLM 4.
        case phi3 = "phi3"
        /// `<|im_start|>assistant<|im_sep|>`: Phi-4.
        case phi4 = "phi4"
        /// `<|START_OF_TURN_TOKEN|><|CHATBOT_TOKEN|>`: Command R.
        case commandR = "command_r"
        /// `<|start_of_role|>assistant<|end_of_role|>`: Granite 3.x/4.x.
        case granite = "granite"
        /// `<｜Assistant｜>`: DeepSeek V3 and R1.
        case deepSeek = "deepseek"
        /// `<|header_start|>assistant<|header_end|>\n\n`: Llama 4.
        case llama4 = "llama4"
    }

    public var family: Family
    public var text: String

    public init(family: Family, text: String) { self.family = family; self.text = text }

    /// The families recognised even when the model has no chat template (a base model scoring a policy's
    /// rollouts is the usual case).
    public static let common: [AssistantHeader] = [
        AssistantHeader(family: .chatML, text: "<|im_start|>assistant\n"),
        AssistantHeader(family: .llama3, text: "<|start_header_id|>assistant<|end_header_id|>\n\n"),
        AssistantHeader(family: .gemma, text: "<start_of_turn>model\n"),
        AssistantHeader(family: .mistral, text: "[/INST]"),
        AssistantHeader(family: .phi3, text: "<|assistant|>\n"),
        AssistantHeader(family: .phi4, text: "<|im_start|>assistant<|im_sep|>"),
        AssistantHeader(family: .commandR, text: "<|START_OF_TURN_TOKEN|><|CHATBOT_TOKEN|>"),
        AssistantHeader(family: .granite, text: "<|start_of_role|>assistant<|end_of_role|>"),
        AssistantHeader(family: .deepSeek, text: "<｜Assistant｜>"),
        AssistantHeader(family: .llama4, text: "<|header_start|>assistant<|header_end|>\n\n"),
    ]

    /// The assistant header of a template, from two renderings of one user message (content `mark`):
    /// without and with the assistant header requested. Templates that add a header (ChatML, Gemma,
    /// Llama 3, …) differ by exactly that header. Templates that add nothing (Mistral, Llama 2: the
    /// assistant text follows the user turn's `[/INST]`) use what follows the user content instead, without
    /// surrounding whitespace, so the response keeps its leading space as the family's own
    /// `add_generation_prompt` rendering leaves it. Nil when neither holds visible text.
    public static func derived(withoutHeader: String, withHeader: String, mark: String) -> String? {
        if withHeader.count > withoutHeader.count, withHeader.hasPrefix(withoutHeader) {
            let header = String(withHeader.dropFirst(withoutHeader.count))
            if header.contains(where: { !$0.isWhitespace }) { return header }
        }
        guard let range = withHeader.range(of: mark, options: .backwards) else { return nil }
        let after = withHeader[range.upperBound...].trimmingWhitespace()
        return after.isEmpty ? nil : after
    }
}

/// How a query's prompt and response were told apart; `code` is what `/get_reward` reports in
/// `extra_logs.boundary` (OpenRLHF turns every `extra_logs` entry into a float tensor, one value per query).
public enum BoundarySource: Sendable, Equatable {
    /// The client's `prompts[i]` was a prefix of the query.
    case prompts
    /// The last assistant header of this family.
    case header(AssistantHeader.Family)
    /// No boundary: the whole query is the input (classifier, judge).
    case none
    /// No boundary, but the leading text shared with other queries of the call is computed once
    /// (classifier); the whole query is still the input.
    case sharedPrefix

    public var code: Double {
        switch self {
        case .sharedPrefix: return -2
        case .none: return -1
        case .prompts: return 0
        case .header(let family): return Double(AssistantHeader.Family.allCases.firstIndex(of: family)! + 1)
        }
    }
}

/// A query cut in two at a boundary: `prompt` ends with the assistant header, `response` is the rest
/// (possibly empty).
public struct QuerySplit: Sendable, Equatable {
    public var prompt: String
    public var response: String
    public var source: BoundarySource
}

public enum ResponseBoundary {
    /// Splits after the last assistant header. The model's own header (`own`) wins wherever it occurs;
    /// otherwise the common header whose last occurrence ends latest wins, so of several turns (or several
    /// families quoted inside a response) the last one is taken. Nil when no header occurs.
    public static func split(_ query: String, own: AssistantHeader?, common: [AssistantHeader] = AssistantHeader.common)
        -> QuerySplit?
    {
        let bytes = Array(query.utf8)
        var best: (end: Int, family: AssistantHeader.Family)?
        if let own, let end = lastEnd(of: Array(own.text.utf8), in: bytes) {
            best = (end, own.family)
        } else {
            for header in common {
                guard let end = lastEnd(of: Array(header.text.utf8), in: bytes), end > best?.end ?? -1 else { continue }
                best = (end, header.family)
            }
        }
        guard let best else { return nil }
        // Headers are whole UTF-8 sequences, so `end` is on a scalar boundary and both halves decode losslessly.
        return QuerySplit(
            prompt: String(decoding: bytes[..<best.end], as: UTF8.self),
            response: String(decoding: bytes[best.end...], as: UTF8.self),
            source: .header(best.family))
    }

    /// The model's own header as a family: a common family when the text is one of theirs.
    public static func ownHeader(_ text: String?) -> AssistantHeader? {
        guard let text, !text.isEmpty else { return nil }
        return AssistantHeader.common.first { $0.text == text } ?? AssistantHeader(family: .modelTemplate, text: text)
    }

    /// Byte offset just past the last occurrence of `needle` in `haystack`.
    static func lastEnd(of needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard !needle.isEmpty, needle.count <= haystack.count else { return nil }
        var start = haystack.count - needle.count
        while start >= 0 {
            if haystack[start] == needle[0], haystack[start..<start + needle.count].elementsEqual(needle) {
                return start + needle.count
            }
            start -= 1
        }
        return nil
    }
}

private extension Substring {
    func trimmingWhitespace() -> String {
        guard let first = firstIndex(where: { !$0.isWhitespace }), let last = lastIndex(where: { !$0.isWhitespace })
        else { return "" }
        return String(self[first...last])
    }
}
