/// Renders a judge template for one prompt (one order of a pair, one rotation of a ranking, one candidate
/// of a critique) through the model's chat template.
///
/// - Template markup (what llama.cpp's `llama_chat_apply_template` writes around each message) is tokenised
///   with special-token parsing; user text (context, question, answers) never is; the template's own
///   instruction text is plain scaffold (not parsed either).
/// - Thinking is switched off where the chat template has the switch: a Jinja template that mentions
///   `enable_thinking` (Qwen3 and its derivatives) gets the empty `<think>\n\n</think>\n\n` block its
///   `enable_thinking=false` branch writes after the assistant header. llama.cpp's built-in renderer does
///   not run the Jinja, so we add that block ourselves.
/// - The prompt comes back as cacheable levels (everything up to the end of `{context}`, then up to the end
///   of `{question}`) and a suffix (the answers and the rest): every order and candidate shares the levels.
/// - A model without a chat template gets `System: …\n\nUser: …\n\nAssistant: `.
enum JudgeLayout {
    struct Rendered: Equatable {
        var levels: [[Segment]]
        var suffix: [Segment]
    }

    /// The empty thinking block Qwen3-style templates write when thinking is off.
    static let emptyThinking = "<think>\n\n</think>\n\n"

    static func thinkingSwitch(in chatTemplate: String?) -> Bool {
        chatTemplate?.contains("enable_thinking") ?? false
    }

    /// Context and question of an input: messages give their last message as the question and the
    /// contents of the others, joined by blank lines, as the context.
    static func contextAndQuestion(_ input: PromptInput) -> (context: String, question: String) {
        switch input {
        case .contextPrompt(let context, let prompt): return (context, prompt)
        case .messages(let messages):
            return (messages.dropLast().map(\.content).joined(separator: "\n\n"), messages.last?.content ?? "")
        case .raw(let text): return ("", text)
        }
    }

    private enum Piece: Equatable {
        case segment(Segment)
        case levelBreak
    }

    /// `shown`: the answers in the order (and under the labels A, B, …) this prompt shows them.
    /// `answerPrefix`: appended after the assistant header (probability mode), nil for generation.
    static func render(
        _ template: JudgeTemplate, input: PromptInput, shown: [String], model: Model,
        answerPrefix: Bool
    ) -> Rendered {
        render(template, input: input, shown: shown, chatTemplate: model.chatTemplate, answerPrefix: answerPrefix) {
            model.applyChatTemplate($0, addAssistantHeader: true)
        }
    }

    /// The same with the chat-template engine passed in (tests render without a model).
    static func render(
        _ template: JudgeTemplate, input: PromptInput, shown: [String], chatTemplate: String?,
        answerPrefix: Bool, apply: ([ChatMessage]) -> String?
    ) -> Rendered {
        let (context, question) = contextAndQuestion(input)
        let system = substitute(template.system, template: template, labelCount: shown.count)
        let userPieces = userPieces(template, context: context, question: question, shown: shown)

        var messages: [(role: String, pieces: [Piece])] = []
        if !system.isEmpty { messages.append(("system", [.segment(.scaffold(system))])) }
        messages.append(("user", userPieces))

        let marks = messages.indices.map { "\u{1}LONGRM\($0)\u{1}" }
        var pieces: [Piece] = []
        if let rendered = apply(zip(messages, marks).map { ChatMessage(role: $0.role, content: $1) }) {
            var rest = Substring(rendered)
            for (i, mark) in marks.enumerated() {
                guard let range = rest.range(of: mark) else { continue }
                pieces.append(.segment(.template(String(rest[..<range.lowerBound]))))
                pieces += messages[i].pieces
                rest = rest[range.upperBound...]
            }
            pieces.append(.segment(.template(String(rest))))
            if thinkingSwitch(in: chatTemplate) { pieces.append(.segment(.template(emptyThinking))) }
        } else {
            for message in messages {
                pieces.append(.segment(.scaffold(message.role == "system" ? "System: " : "User: ")))
                pieces += message.pieces
                pieces.append(.segment(.scaffold("\n\n")))
            }
            pieces.append(.segment(.scaffold("Assistant: ")))
        }
        if answerPrefix && !template.answerPrefix.isEmpty { pieces.append(.segment(.scaffold(template.answerPrefix))) }

        var levels: [[Segment]] = []
        var current: [Segment] = []
        for piece in pieces {
            switch piece {
            case .segment(let segment): if !segment.text.isEmpty { current.append(segment) }
            case .levelBreak:
                if !current.isEmpty { levels.append(current) }
                current = []
            }
        }
        return Rendered(levels: levels, suffix: current)
    }

    /// The user text as pieces: literal text (scaffold), user text (content), and a level break after the
    /// context and after the question while no answer has appeared yet.
    private static func userPieces(_ template: JudgeTemplate, context: String, question: String, shown: [String])
        -> [Piece]
    {
        var pieces: [Piece] = []
        var answersSeen = false
        var rest = Substring(substitute(template.user, template: template, labelCount: shown.count))
        let content: Set<String> = [
            "{context}", "{question}", "{response_a}", "{response_b}", "{responses}", "{response}",
        ]
        while let open = rest.firstIndex(of: "{") {
            guard let close = rest[open...].firstIndex(of: "}"), content.contains(String(rest[open...close])) else {
                pieces.append(.segment(.scaffold(String(rest[...open]))))
                rest = rest[rest.index(after: open)...]
                continue
            }
            pieces.append(.segment(.scaffold(String(rest[..<open]))))
            switch String(rest[open...close]) {
            case "{context}":
                pieces.append(.segment(.content(context)))
                if !answersSeen { pieces.append(.levelBreak) }
            case "{question}":
                pieces.append(.segment(.content(question)))
                if !answersSeen { pieces.append(.levelBreak) }
            case "{response_a}":
                answersSeen = true
                pieces.append(.segment(.content(shown.first ?? "")))
            case "{response_b}":
                answersSeen = true
                pieces.append(.segment(.content(shown.count > 1 ? shown[1] : "")))
            case "{response}":
                answersSeen = true
                pieces.append(.segment(.content(shown.first ?? "")))
            default:  // {responses}
                answersSeen = true
                for (i, answer) in shown.enumerated() {
                    let label = JudgeLabels.name(i)
                    if i > 0 { pieces.append(.segment(.scaffold("\n\n"))) }
                    pieces.append(.segment(.scaffold("[The Start of Assistant \(label)'s Answer]\n")))
                    pieces.append(.segment(.content(answer)))
                    pieces.append(.segment(.scaffold("\n[The End of Assistant \(label)'s Answer]")))
                }
            }
            rest = rest[rest.index(after: close)...]
        }
        pieces.append(.segment(.scaffold(String(rest))))
        return pieces
    }

    /// Fills the placeholders that are not user text: `{labels}`, `{scale_min}`, `{scale_max}`.
    private static func substitute(_ text: String, template: JudgeTemplate, labelCount: Int) -> String {
        text.replacingOccurrences(of: "{labels}", with: JudgeLabels.list(labelCount))
            .replacingOccurrences(of: "{scale_min}", with: String(template.scaleMin))
            .replacingOccurrences(of: "{scale_max}", with: String(template.scaleMax))
    }
}
