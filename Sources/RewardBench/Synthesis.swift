import Foundation

/// A short preference record to stretch: the evidence that decides between chosen and rejected.
public struct ShortRecord: Sendable, Equatable {
    public var id: String?
    public var task: String?
    public var prompt: String
    public var evidence: String
    public var chosen: String
    public var rejected: String
    /// More sentences to scatter through the context (the grounding suite's confusable facts).
    public var distractors: [String]
    public var subtype: String?

    public init(
        id: String? = nil, task: String? = nil, prompt: String, evidence: String, chosen: String, rejected: String,
        distractors: [String] = [], subtype: String? = nil
    ) {
        self.id = id
        self.task = task
        self.prompt = prompt
        self.evidence = evidence
        self.chosen = chosen
        self.rejected = rejected
        self.distractors = distractors
        self.subtype = subtype
    }

    public init(json: JSONValue) throws(RecordError) {
        func text(_ key: String) throws(RecordError) -> String {
            guard let value = json[key]?.stringValue else { throw RecordError("missing string '\(key)'") }
            return value
        }
        self.init(
            id: json["id"].flatMap { $0.textValue }, task: json["task"]?.stringValue, prompt: try text("prompt"),
            evidence: try text("evidence"), chosen: try text("chosen"), rejected: try text("rejected"))
    }

    public static func load(data: Data, name: String) -> (records: [ShortRecord], issues: [LineIssue]) {
        let (values, parseIssues) = JSONLines.values(of: data, file: name)
        var issues = parseIssues
        var records: [ShortRecord] = []
        for (line, value) in values {
            do {
                records.append(try ShortRecord(json: value))
            } catch {
                issues.append(LineIssue(file: name, line: line, message: error.message))
            }
        }
        return (records, issues.sorted { $0.line < $1.line })
    }
}

public enum DepthChoice: Sendable, Equatable {
    case fixed(Double)
    case random

    /// "0.5" or "random".
    public init?(_ text: String) {
        if text == "random" {
            self = .random
        } else if let value = Double(text), (0...1).contains(value) {
            self = .fixed(value)
        } else {
            return nil
        }
    }

    func draw(_ generator: inout SeededRandom) -> Double {
        switch self {
        case .fixed(let value): value
        case .random: (generator.unit() * 1000).rounded() / 1000
        }
    }
}

/// Short-to-long synthesis: each short record becomes one Long-RewardBench PairWise record per length.
public struct Synthesizer {
    public var depth: DepthChoice
    public var seed: UInt64
    public var tolerance: Double
    public var instruction =
        "You are a careful assistant. Answer the question using only the information in the document below."

    public init(depth: DepthChoice, seed: UInt64, tolerance: Double = 0.02) {
        self.depth = depth
        self.seed = seed
        self.tolerance = tolerance
    }

    /// The document goes in the system message and the question alone in the last one. The server treats
    /// everything before the last message as context: it caches it across questions, and the "lift"
    /// normalisation's baseline (the last message without the rest) is then the question without the document.
    /// System-then-user also keeps chat templates that require alternating turns happy.
    public func messages(context: String, question: String) -> [ChatMessage] {
        [
            ChatMessage(role: "system", content: "\(instruction)\n\n<document>\n\(context)\n</document>"),
            ChatMessage(role: "user", content: "Question: \(question)"),
        ]
    }

    /// One record for `short` at `length` tokens. `makeFiller` gets the record's own generator so the
    /// filler (where it starts, or the prose generated) depends only on the seed and the record.
    public func record<Filler: FillerSource>(
        for short: ShortRecord, index: Int, length: Int, counter: some TokenCounter,
        makeFiller: (inout SeededRandom) -> Filler
    ) throws -> JSONValue {
        let label = LengthBucket.label(tokens: length)
        let id = short.id ?? "synth-\(index)"
        var generator = SeededRandom(seed: seed, key: "\(id)|\(index)|\(length)")
        let evidenceDepth = depth.draw(&generator)
        var insertions = [Insertion(text: short.evidence, depth: evidenceDepth)]
        for distractor in short.distractors {
            insertions.append(Insertion(text: distractor, depth: generator.unit()))
        }
        var filler = makeFiller(&generator)
        let builder = LongContextBuilder(target: length, tolerance: tolerance) { context in
            messages(context: context, question: short.prompt)
        }
        let built = try builder.build(insertions: insertions, filler: &filler, counter: counter)
        var fields: [String: JSONValue] = [
            "id": .string("\(id)-\(label)"),
            "prompt_template": .array(
                built.messages.map {
                    .object(["role": .string($0.role), "content": .string($0.content)])
                }),
            "question": .string(short.prompt),
            "chosen": .string(short.chosen),
            "rejected": .string(short.rejected),
            "tasktype": .string("PairWise"),
            "subtype": .string(short.subtype ?? "synthetic"),
            "ctx_length_for_length": .string(label),
            "task": .string(short.task ?? "Synth"),
            "source": .string("longrm-synth"),
            "evidence": .string(short.evidence),
            "evidence_depth": .number(evidenceDepth),
            "evidence_depth_actual": .number((built.evidenceDepth * 1000).rounded() / 1000),
            "n_tokens": .number(Double(built.tokens)),
            "length": .number(Double(built.tokens)),
        ]
        if let original = short.id { fields["source_id"] = .string(original) }
        return .object(fields)
    }
}
