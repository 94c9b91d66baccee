import Foundation

/// A JSON value, decoded without Foundation's number/boolean ambiguity.
indirect enum JSONValue: Decodable, Equatable, Sendable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null; return }
        if let b = try? c.decode(Bool.self) { self = .bool(b); return }
        if let n = try? c.decode(Double.self) { self = .number(n); return }
        if let s = try? c.decode(String.self) { self = .string(s); return }
        if let a = try? c.decode([JSONValue].self) { self = .array(a); return }
        self = .object(try c.decode([String: JSONValue].self))
    }

    static func parse(_ bytes: [UInt8]) throws -> JSONValue {
        try JSONDecoder().decode(JSONValue.self, from: Data(bytes))
    }

    subscript(key: String) -> JSONValue? {
        if case .object(let o) = self { return o[key] }
        return nil
    }
    subscript(index: Int) -> JSONValue? {
        if case .array(let a) = self, a.indices.contains(index) { return a[index] }
        return nil
    }
    var string: String? { if case .string(let s) = self { return s }; return nil }
    var number: Double? { if case .number(let n) = self { return n }; return nil }
    var int: Int? { number.flatMap { $0 == $0.rounded() ? Int(exactly: $0) : nil } }
    var bool: Bool? { if case .bool(let b) = self { return b }; return nil }
    var array: [JSONValue]? { if case .array(let a) = self { return a }; return nil }
    var object: [String: JSONValue]? { if case .object(let o) = self { return o }; return nil }
    var numbers: [Double]? { array?.compactMap(\.number) }
}

/// Validates JSON against the subset of JSON Schema 2020-12 that openapi.json uses. A keyword it does not
/// know is reported as an error, so the spec cannot grow a constraint that these tests silently ignore
/// (schemathesis checks the same responses with a full validator in tests/api_schemathesis.sh).
struct SchemaValidator {
    let document: JSONValue

    private static let annotations: Set<String> = [
        "description", "example", "examples", "title", "summary", "default", "deprecated",
    ]

    /// Errors, empty when `value` conforms.
    func validate(_ value: JSONValue, _ schema: JSONValue, at path: String = "$") -> [String] {
        guard case .object(let keywords) = schema else {
            if case .bool(let allowed) = schema { return allowed ? [] : ["\(path): no value allowed"] }
            return ["\(path): schema is not an object"]
        }
        var errors: [String] = []
        for (keyword, argument) in keywords.sorted(by: { $0.key < $1.key }) where !Self.annotations.contains(keyword) {
            errors += check(keyword, argument, value, keywords, path)
        }
        return errors
    }

    private func check(
        _ keyword: String, _ argument: JSONValue, _ value: JSONValue,
        _ keywords: [String: JSONValue], _ path: String
    ) -> [String] {
        switch keyword {
        case "$ref":
            guard let target = argument.string.flatMap(resolve) else {
                return ["\(path): unresolvable $ref \(argument)"]
            }
            return validate(value, target, at: path)
        case "type":
            let names = argument.array?.compactMap(\.string) ?? [argument.string ?? ""]
            return names.contains { Self.has(type: $0, value) } ? [] : ["\(path): expected type \(names), got \(value)"]
        case "enum":
            return (argument.array ?? []).contains(value) ? [] : ["\(path): \(value) not in enum \(argument)"]
        case "const":
            return argument == value ? [] : ["\(path): expected \(argument), got \(value)"]
        case "properties":
            guard let object = value.object, let properties = argument.object else { return [] }
            return properties.sorted { $0.key < $1.key }.flatMap { name, schema in
                object[name].map { validate($0, schema, at: "\(path).\(name)") } ?? []
            }
        case "required":
            guard let object = value.object else { return [] }
            return (argument.array ?? []).compactMap(\.string).filter { object[$0] == nil }.map {
                "\(path): missing required \($0)"
            }
        case "additionalProperties":
            guard let object = value.object else { return [] }
            let known = Set(keywords["properties"]?.object?.keys.map { $0 } ?? [])
            return object.keys.sorted().filter { !known.contains($0) }.flatMap { name in
                validate(object[name]!, argument, at: "\(path).\(name)")
            }
        case "items":
            guard let array = value.array else { return [] }
            return array.enumerated().flatMap { validate($1, argument, at: "\(path)[\($0)]") }
        case "minItems":
            guard let array = value.array, let n = argument.int else { return [] }
            return array.count >= n ? [] : ["\(path): \(array.count) items, fewer than \(n)"]
        case "maxItems":
            guard let array = value.array, let n = argument.int else { return [] }
            return array.count <= n ? [] : ["\(path): \(array.count) items, more than \(n)"]
        case "uniqueItems":
            guard let array = value.array, argument.bool == true else { return [] }
            let duplicate = array.indices.contains { i in array[(i + 1)...].contains(array[i]) }
            return duplicate ? ["\(path): items are not unique"] : []
        case "minimum":
            guard let n = value.number, let bound = argument.number else { return [] }
            return n >= bound ? [] : ["\(path): \(n) < minimum \(bound)"]
        case "maximum":
            guard let n = value.number, let bound = argument.number else { return [] }
            return n <= bound ? [] : ["\(path): \(n) > maximum \(bound)"]
        case "minLength":
            guard let s = value.string, let n = argument.int else { return [] }
            return s.unicodeScalars.count >= n ? [] : ["\(path): shorter than \(n)"]
        case "maxLength":
            guard let s = value.string, let n = argument.int else { return [] }
            return s.unicodeScalars.count <= n ? [] : ["\(path): longer than \(n)"]
        case "pattern":
            guard let s = value.string, let pattern = argument.string else { return [] }
            guard let regex = try? NSRegularExpression(pattern: pattern) else {
                return ["\(path): bad pattern \(pattern)"]
            }
            let found = regex.firstMatch(in: s, range: NSRange(s.startIndex..., in: s)) != nil
            return found ? [] : ["\(path): \"\(s)\" does not match \(pattern)"]
        case "allOf":
            return (argument.array ?? []).flatMap { validate(value, $0, at: path) }
        case "anyOf":
            let branches = argument.array ?? []
            return branches.contains { validate(value, $0, at: path).isEmpty }
                ? [] : ["\(path): matches no anyOf branch"]
        default:
            return ["\(path): validator does not support keyword \(keyword)"]
        }
    }

    private static func has(type: String, _ value: JSONValue) -> Bool {
        switch (type, value) {
        case ("null", .null), ("boolean", .bool), ("number", .number), ("string", .string), ("array", .array),
            ("object", .object):
            return true
        case ("integer", .number(let n)):
            return n == n.rounded()
        default:
            return false
        }
    }

    /// A local JSON pointer such as `#/components/schemas/Error`.
    func resolve(_ reference: String) -> JSONValue? {
        guard reference.hasPrefix("#/") else { return nil }
        var node: JSONValue? = document
        for part in reference.dropFirst(2).split(separator: "/") {
            node = node?[part.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")]
        }
        return node
    }

    /// Follows `$ref`s until a node without one.
    func dereference(_ node: JSONValue?) -> JSONValue? {
        var node = node
        while let reference = node?["$ref"]?.string { node = resolve(reference) }
        return node
    }

    /// The documented response of an operation for a status, or nil when that status is not documented.
    func response(path: String, method: String, status: Int) -> JSONValue? {
        dereference(document["paths"]?[path]?[method.lowercased()]?["responses"]?[String(status)])
    }
}
