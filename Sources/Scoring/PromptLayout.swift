/// A piece of prompt text. Content pieces come from the user: they are tokenised without special-token
/// parsing (no control-token injection) and are the only pieces `truncation: middle` may shorten.
struct Segment: Sendable, Equatable {
    enum Kind: Sendable, Equatable {
        /// Our own layout text (plain layout).
        case scaffold
        /// Text rendered by the model's chat template: may contain special tokens such as `<start_of_turn>`.
        case template
        /// User text.
        case content
    }
    var text: String
    var kind: Kind
    static func scaffold(_ s: String) -> Segment { Segment(text: s, kind: .scaffold) }
    static func template(_ s: String) -> Segment { Segment(text: s, kind: .template) }
    static func content(_ s: String) -> Segment { Segment(text: s, kind: .content) }
}

/// The documented plain layout for models without a chat template, and chat-template rendering with the
/// user text kept apart from the template's markup.
///
/// Plain layout (`context` + `prompt`):
///
///     <bos>Context:\n{context}\n\nQuestion: {prompt}\nAnswer:{" " + response}
///
/// Plain layout (`messages`): each message as `{Role}: {content}\n\n`, then `Assistant:{" " + response}`.
/// The context block and the rest are cached as two levels, so a new prompt on a known context reuses it.
enum PromptLayout {
    /// Prefix levels (each extends the one before) for likelihood and classifier scoring.
    static func levels(for input: PromptInput, model: Model) -> [[Segment]] {
        switch input {
        case .contextPrompt(let context, let prompt):
            if model.chatTemplate != nil {
                let user = "Context:\n\(context)\n\nQuestion: \(prompt)"
                return [
                    templated(
                        [ChatMessage(role: "user", content: user)], model: model,
                        contentOverride: [
                            [.scaffold("Context:\n"), .content(context), .scaffold("\n\nQuestion: "), .content(prompt)]
                        ])
                ]
            }
            return [
                [.scaffold("Context:\n"), .content(context), .scaffold("\n\n")],
                [.scaffold("Question: "), .content(prompt), .scaffold("\nAnswer:")],
            ]
        case .messages(let messages):
            if model.chatTemplate != nil { return [templated(messages, model: model, contentOverride: nil)] }
            let rendered = messages.map { m -> [Segment] in
                [.scaffold("\(roleLabel(m.role)): "), .content(m.content), .scaffold("\n\n")]
            }
            let head = rendered.dropLast().flatMap { $0 }
            let last = (rendered.last ?? []) + [.scaffold("Assistant:")]
            return head.isEmpty ? [last] : [head, last]
        case .raw(let text):
            // Already rendered by the trainer's chat template: its markup must become special tokens.
            return [[.template(text)]]
        }
    }

    /// A sequence classifier reads the whole conversation, the response's closing markup included (transformers
    /// applies the chat template to the messages plus the response as an assistant turn, then pools at the last
    /// token). So the prefix is the render up to the assistant's content and `tail` is the template text after it
    /// (e.g. `<|eot_id|>`, `<|im_end|>\n`), appended to every response. Without a chat template, or for raw
    /// text, this is `levels(for:)` with no tail.
    static func classifierLayout(for input: PromptInput, model: Model) -> (levels: [[Segment]], tail: String) {
        guard model.chatTemplate != nil else { return (levels(for: input, model: model), "") }
        let messages: [ChatMessage]
        let override: [[Segment]]
        switch input {
        case .raw: return (levels(for: input, model: model), "")
        case .messages(let given):
            messages = given
            override = given.map { [.content($0.content)] }
        case .contextPrompt(let context, let prompt):
            messages = [ChatMessage(role: "user", content: "Context:\n\(context)\n\nQuestion: \(prompt)")]
            override = [[.scaffold("Context:\n"), .content(context), .scaffold("\n\nQuestion: "), .content(prompt)]]
        }
        let answerMark = "\u{1}LONGRM-ANSWER\u{1}"
        let withAnswer = messages + [ChatMessage(role: "assistant", content: answerMark)]
        let segments = templated(withAnswer, model: model, contentOverride: override + [[]], addAssistantHeader: false)
        // Not in template text: llama.cpp does not know this template and the plain fallback was rendered.
        guard let split = segments.firstIndex(where: { $0.kind == .template && $0.text.contains(answerMark) }) else {
            return (levels(for: input, model: model), "")
        }
        // The placeholder was left in the template text: what precedes it is the prefix's end, what follows the tail.
        let parts = segments[split].text.components(separatedBy: answerMark)
        var prefix = Array(segments[..<split])
        if !parts[0].isEmpty { prefix.append(.template(parts[0])) }
        let tail = parts.dropFirst().joined() + segments[(split + 1)...].map(\.text).joined()
        return ([prefix], tail)
    }

    /// Responses follow a ":" in the plain layout, so they start with a space; chat templates and raw
    /// OpenRLHF queries end exactly where the response begins.
    static func responseText(_ response: String, input: PromptInput, model: Model) -> String {
        if case .raw = input { return response }
        return model.chatTemplate == nil ? " " + response : response
    }

    /// The prompt alone, without the context: the baseline of the "lift" normalisation.
    static func contextFreeLevels(for input: PromptInput, model: Model) -> [[Segment]] {
        switch input {
        case .contextPrompt(_, let prompt):
            return levels(for: .contextPrompt(context: "", prompt: prompt), model: model).suffix(1).map { $0 }
        case .messages(let messages):
            return levels(for: .messages(Array(messages.suffix(1))), model: model)
        case .raw:
            return [[]]
        }
    }

    // MARK: judge

    static let judgeInstruction =
        "You are a careful judge. Read the context, then decide which response "
        + "answers the question correctly and is supported by the context."
    static let verdictLabels = ["A", "B"]
    static let ratingLabels = (0...9).map(String.init)

    /// Shared judge prefix: instruction and context (the expensive part), computed once for every order
    /// and candidate.
    static func judgePrefix(for input: PromptInput) -> [Segment] {
        switch input {
        case .contextPrompt(let context, _):
            return [.scaffold(judgeInstruction + "\n\nContext:\n"), .content(context), .scaffold("\n\n")]
        case .messages(let messages):
            return [.scaffold(judgeInstruction + "\n\nConversation:\n")]
                + messages.flatMap { [.scaffold("\(roleLabel($0.role)): "), .content($0.content), .scaffold("\n\n")] }
        case .raw(let text):
            return [.scaffold(judgeInstruction + "\n\nConversation:\n"), .content(text), .scaffold("\n\n")]
        }
    }

    /// The judge's cacheable levels: instruction and context, then the question. Both orders of a pair (and
    /// every Best-of-N candidate) share the question too; another question on the same context still
    /// reuses the first level.
    static func judgeLevels(for input: PromptInput) -> [[Segment]] {
        let question = questionSegments(input)
        return [judgePrefix(for: input)] + (question.isEmpty ? [] : [question])
    }

    static func judgePairSuffix(first: String, second: String) -> [Segment] {
        [
            .scaffold("Response A: "), .content(first), .scaffold("\n\nResponse B: "), .content(second),
            .scaffold("\n\nWhich response is better, A or B?\nAnswer:"),
        ]
    }

    static func judgeRatingSuffix(response: String) -> [Segment] {
        [
            .scaffold("Response: "), .content(response),
            .scaffold("\n\nRate the response from 0 (wrong or unsupported) to 9 (correct and supported).\nRating:"),
        ]
    }

    private static func questionSegments(_ input: PromptInput) -> [Segment] {
        if case .contextPrompt(_, let prompt) = input {
            return [.scaffold("Question: "), .content(prompt), .scaffold("\n\n")]
        }
        return []
    }

    private static func roleLabel(_ role: String) -> String {
        switch role.lowercased() {
        case "system": return "System"
        case "assistant": return "Assistant"
        case "user": return "User"
        default: return role.prefix(1).uppercased() + role.dropFirst()
        }
    }

    /// Renders through the chat template with placeholders in place of each message's content, then splits
    /// at the placeholders, so template markup is parsed for special tokens and user text is not.
    ///
    /// A message whose override is empty keeps its content in the template text (the classifier's answer mark).
    private static func templated(
        _ messages: [ChatMessage], model: Model, contentOverride: [[Segment]]?,
        addAssistantHeader: Bool = true
    ) -> [Segment] {
        let marks = messages.indices.map { i in
            contentOverride?[i].isEmpty == true ? messages[i].content : "\u{1}LONGRM\(i)\u{1}"
        }
        let placeholders = zip(messages, marks).map { ChatMessage(role: $0.role, content: $1) }
        guard let rendered = model.applyChatTemplate(placeholders, addAssistantHeader: addAssistantHeader) else {
            return messages.flatMap { [.scaffold("\(roleLabel($0.role)): "), .content($0.content), .scaffold("\n\n")] }
                + [.scaffold("Assistant:")]
        }
        var segments: [Segment] = []
        var rest = Substring(rendered)
        for (i, mark) in marks.enumerated() where contentOverride?[i].isEmpty != true {
            guard let range = rest.range(of: mark) else { continue }
            segments.append(.template(String(rest[..<range.lowerBound])))
            segments += contentOverride?[i] ?? [.content(messages[i].content)]
            rest = rest[range.upperBound...]
        }
        segments.append(.template(String(rest)))
        return segments.filter { !$0.text.isEmpty }
    }
}
