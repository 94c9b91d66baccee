import Foundation

public struct ChatMessage: Sendable, Equatable, Codable {
    public var role: String
    public var content: String

    public init(role: String, content: String) {
        self.role = role
        self.content = content
    }
}

public enum TaskType: String, Sendable, Codable {
    case pairWise = "PairWise"
    case bestOfN = "BestOfN"
}

/// The tasks Long-RewardBench ships, one file each (`LongQA.jsonl`, ...).
public let knownTasks = ["LongQA", "Summ", "Safety", "ICL", "Cite", "Code", "Math"]

/// One Long-RewardBench item, with the raw JSON kept for writing it back.
public struct BenchRecord: Sendable, Equatable {
    /// Stable identity across runs: file name plus `id` (or line number when there is no id).
    public var key: String
    public var file: String
    public var line: Int
    public var id: String?
    public var messages: [ChatMessage]
    public var taskType: TaskType
    /// PairWise: [chosen, rejected]. BestOfN: candidates, best first.
    public var responses: [String]
    public var task: String
    public var subtype: String?
    public var lengthBucket: String
    public var raw: JSONValue

    public init(
        key: String, file: String, line: Int, id: String?, messages: [ChatMessage], taskType: TaskType,
        responses: [String], task: String, subtype: String?, lengthBucket: String, raw: JSONValue
    ) {
        self.key = key
        self.file = file
        self.line = line
        self.id = id
        self.messages = messages
        self.taskType = taskType
        self.responses = responses
        self.task = task
        self.subtype = subtype
        self.lengthBucket = lengthBucket
        self.raw = raw
    }
}

public struct RecordError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

extension BenchRecord {
    /// Builds a record from one parsed JSONL line. `fileStem` is the file name without extension: the real
    /// dataset names its files after the task, so it serves when a record's own fields don't name one.
    public init(json: JSONValue, fileStem: String, line: Int) throws(RecordError) {
        guard case .object(let fields) = json else { throw RecordError("not a JSON object") }
        guard let template = fields["prompt_template"]?.arrayValue else {
            throw RecordError("missing or non-list field 'prompt_template'")
        }
        var messages: [ChatMessage] = []
        for (index, item) in template.enumerated() {
            guard let role = item["role"]?.stringValue, let content = item["content"]?.stringValue else {
                throw RecordError("prompt_template[\(index)] needs string 'role' and 'content'")
            }
            messages.append(ChatMessage(role: role, content: content))
        }
        if messages.isEmpty { throw RecordError("'prompt_template' is empty") }

        let typeText = fields["tasktype"]?.stringValue
        let taskType: TaskType
        switch typeText {
        case nil: taskType = fields["candidates"]?.arrayValue != nil ? .bestOfN : .pairWise
        case let text?:
            guard let parsed = TaskType(rawValue: text) else {
                throw RecordError("unknown tasktype '\(text)' (expected PairWise or BestOfN)")
            }
            taskType = parsed
        }

        let responses: [String]
        switch taskType {
        case .pairWise:
            guard let chosen = fields["chosen"]?.stringValue else { throw RecordError("missing string 'chosen'") }
            guard let rejected = fields["rejected"]?.stringValue else {
                throw RecordError("missing string 'rejected'")
            }
            responses = [chosen, rejected]
        case .bestOfN:
            guard let list = fields["candidates"]?.arrayValue else { throw RecordError("missing list 'candidates'") }
            var candidates: [String] = []
            for item in list {
                guard let text = item.stringValue else { throw RecordError("'candidates' must hold strings") }
                candidates.append(text)
            }
            guard (2...64).contains(candidates.count) else {
                throw RecordError("'candidates' has \(candidates.count) entries (need 2...64)")
            }
            responses = candidates
        }

        guard let bucket = fields["ctx_length_for_length"]?.textValue, !bucket.isEmpty else {
            throw RecordError("missing 'ctx_length_for_length'")
        }
        let id = fields["id"].flatMap { $0.textValue }
        self.init(
            key: "\(fileStem)#\(id ?? "line\(line)")",
            file: fileStem,
            line: line,
            id: id,
            messages: messages,
            taskType: taskType,
            responses: responses,
            task: Self.taskName(
                task: fields["task"]?.stringValue, source: fields["source"]?.stringValue,
                fileStem: fileStem),
            subtype: fields["subtype"].flatMap { $0.textValue },
            lengthBucket: bucket,
            raw: json
        )
    }

    /// A known task name wins from `task`, then the file name, then `source`; otherwise the first present.
    static func taskName(task: String?, source: String?, fileStem: String) -> String {
        let candidates = [task, fileStem, source].compactMap { $0 }.filter { !$0.isEmpty }
        if let known = candidates.first(where: { knownTasks.contains($0) }) { return known }
        return [task, source].compactMap { $0 }.first { !$0.isEmpty } ?? (fileStem.isEmpty ? "unknown" : fileStem)
    }
}
