import Foundation

/// A judge template from a `--judge-template FILE`: one JSON object.
///
///     {
///       "name": "my-pair",                        required; requests choose it with "judge_template"
///       "kind": "pair" | "rank" | "critique",     required
///       "system": "…",                            optional system message ({labels}, {scale_min}, {scale_max})
///       "user": "… {context} … {question} … {response_a} … {response_b}",   required, see JudgeTemplate
///       "answer_prefix": "[[",                    optional (default: "[[", critique "[Score: ")
///       "verdict_pattern": "\\[\\[(.*?)\\]\\]",   optional: a regular expression, one capture group
///       "scale": [1, 10]                          critique only (default [0, 9])
///     }
///
/// Unknown keys, a missing placeholder or a bad pattern are refused (the server does not start).
public enum JudgeTemplateFile {
    static let keys: Set<String> = ["name", "kind", "system", "user", "answer_prefix", "verdict_pattern", "scale"]

    public static func load(_ path: String) throws(ScoringError) -> JudgeTemplate {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .invalidRequest(field: "judge-template", reason: "cannot read \(path)")
        }
        return try parse(data, source: path)
    }

    public static func parse(_ data: Data, source: String) throws(ScoringError) -> JudgeTemplate {
        func fail(_ reason: String) -> ScoringError {
            .invalidRequest(field: "judge-template", reason: "\(source): \(reason)")
        }
        guard let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw fail("expected one JSON object")
        }
        if let unknown = object.keys.sorted().first(where: { !keys.contains($0) }) {
            throw fail("unknown key \"\(unknown)\"; allowed: \(keys.sorted().joined(separator: ", "))")
        }
        func string(_ key: String, required: Bool) throws(ScoringError) -> String? {
            guard let value = object[key] else {
                if required { throw fail("\"\(key)\" is required") }
                return nil
            }
            guard let text = value as? String else { throw fail("\"\(key)\" must be a string") }
            return text
        }
        let name = try string("name", required: true) ?? ""
        guard !name.isEmpty else { throw fail("\"name\" must not be empty") }
        let kindName = try string("kind", required: true) ?? ""
        guard let kind = JudgeTemplate.Kind(rawValue: kindName), kind != .plain else {
            throw fail("\"kind\" must be \"pair\", \"rank\" or \"critique\", got \"\(kindName)\"")
        }
        let base: JudgeTemplate = kind == .pair ? .pair : kind == .rank ? .rank : .critique
        var template = JudgeTemplate(
            name: name, kind: kind, system: try string("system", required: false) ?? "",
            user: try string("user", required: true) ?? "",
            answerPrefix: try string("answer_prefix", required: false) ?? base.answerPrefix,
            verdictPattern: try string("verdict_pattern", required: false) ?? base.verdictPattern,
            scaleMin: base.scaleMin, scaleMax: base.scaleMax)
        if let scale = object["scale"] {
            guard kind == .critique else { throw fail("\"scale\" applies to kind critique only") }
            guard let bounds = scale as? [Any], bounds.count == 2, let low = bounds[0] as? Int,
                let high = bounds[1] as? Int
            else {
                throw fail("\"scale\" must be two integers [min, max]")
            }
            template.scaleMin = low
            template.scaleMax = high
        }
        do {
            return try template.validated()
        } catch let ScoringError.invalidRequest(_, reason) {
            throw fail(reason)
        }
    }
}
