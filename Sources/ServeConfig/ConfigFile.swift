import Foundation

/// The optional `--config FILE`: either a JSON object or `key = value` lines (`#` comments, blank lines,
/// optionally quoted values). Keys are flag names (`max-queue-requests`), with `_` for `-` and an optional
/// `LONGRM_` prefix also accepted, so a systemd EnvironmentFile (`LONGRM_PORT=8080`) reads as a config file.
struct ConfigFile: Sendable {
    let path: String
    /// Values by flag name, as text (JSON numbers and booleans are turned into their literal text).
    let values: [String: String]

    static func load(_ path: String, knownFlags: Set<String>) throws(ConfigError) -> ConfigFile {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigError(description: "cannot read the config file \(path)")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ConfigError(description: "the config file \(path) is not UTF-8 text")
        }
        let pairs =
            text.drop(while: \.isWhitespace).first == "{"
            ? try parseJSON(data, path: path)
            : try parseLines(text, path: path)
        var values: [String: String] = [:]
        for (location, key, value) in pairs {
            let flag = normalize(key)
            guard knownFlags.contains(flag) else {
                throw ConfigError(description: "unknown setting '\(key)' in \(path) \(location)")
            }
            guard values[flag] == nil else {
                throw ConfigError(description: "setting '\(key)' appears twice in \(path) (\(location))")
            }
            values[flag] = value
        }
        return ConfigFile(path: path, values: values)
    }

    /// `LONGRM_MAX_QUEUE_REQUESTS`, `max_queue_requests` and `--max-queue-requests` all name one setting.
    static func normalize(_ key: String) -> String {
        var k = key.lowercased().replacingOccurrences(of: "_", with: "-")
        if k.hasPrefix("--") { k.removeFirst(2) }
        if k.hasPrefix("longrm-") { k.removeFirst("longrm-".count) }
        return k
    }

    private static func parseLines(_ text: String, path: String) throws(ConfigError) -> [(String, String, String)] {
        var pairs: [(String, String, String)] = []
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.trimmingCharacters(in: .whitespacesAndNewlines)
            if line.isEmpty || line.hasPrefix("#") { continue }
            guard let eq = line.firstIndex(of: "=") else {
                throw ConfigError(description: "\(path) line \(index + 1): expected 'key = value'")
            }
            let key = line[..<eq].trimmingCharacters(in: .whitespaces)
            var value = line[line.index(after: eq)...].trimmingCharacters(in: .whitespaces)
            if value.count >= 2, let q = value.first, q == "\"" || q == "'", value.last == q {
                value = String(value.dropFirst().dropLast())
            }
            guard !key.isEmpty else { throw ConfigError(description: "\(path) line \(index + 1): empty key") }
            pairs.append(("line \(index + 1)", key, value))
        }
        return pairs
    }

    private static func parseJSON(_ data: Data, path: String) throws(ConfigError) -> [(String, String, String)] {
        let object: [String: JSONScalar]
        do { object = try JSONDecoder().decode([String: JSONScalar].self, from: data) } catch {
            throw ConfigError(
                description: "the config file \(path) must be a JSON object of strings, numbers and booleans (\(error))"
            )
        }
        return object.keys.sorted().compactMap { key in object[key]?.text.map { ("key \"\(key)\"", key, $0) } }
    }

    /// A JSON value as the text a flag would take; null means "not set".
    private struct JSONScalar: Decodable {
        let text: String?

        init(from decoder: any Decoder) throws {
            let c = try decoder.singleValueContainer()
            if c.decodeNil() {
                text = nil
            } else if let b = try? c.decode(Bool.self) {
                text = b ? "true" : "false"
            } else if let i = try? c.decode(Int.self) {
                text = String(i)
            } else if let d = try? c.decode(Double.self) {
                text = String(d)
            } else {
                text = try c.decode(String.self)
            }
        }
    }
}
