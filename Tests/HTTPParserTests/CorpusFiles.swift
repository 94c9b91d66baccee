import Foundation

/// Locates `shared/corpora/http`, which lives beside the repository (`../shared/corpora/http` from its
/// root), not inside it: `LONGRM_CORPORA` first, then the ancestors of this file (symlinks resolved), then
/// the workspace default.
enum CorpusFiles {
    static func directory(filePath: String = #filePath) -> URL? {
        let fm = FileManager.default
        func isCorpus(_ url: URL) -> Bool {
            fm.fileExists(atPath: url.appendingPathComponent("llhttp-request-cases.jsonl").path)
        }
        if let env = ProcessInfo.processInfo.environment["LONGRM_CORPORA"], isCorpus(URL(fileURLWithPath: env)) {
            return URL(fileURLWithPath: env)
        }
        for start in [URL(fileURLWithPath: filePath), URL(fileURLWithPath: filePath).resolvingSymlinksInPath()] {
            var dir = start.deletingLastPathComponent()
            while dir.path != "/" {
                let candidate = dir.appendingPathComponent("shared/corpora/http")
                if isCorpus(candidate) { return candidate }
                dir = dir.deletingLastPathComponent()
            }
        }
        let fallback = URL(fileURLWithPath: "/work/shared/corpora/http")
        return isCorpus(fallback) ? fallback : nil
    }

    /// The JSON objects of a .jsonl file, decoded as `T`.
    static func load<T: Decodable>(_ name: String, as: T.Type) throws -> [T] {
        guard let dir = directory() else { throw CorpusMissing() }
        let text = try String(contentsOf: dir.appendingPathComponent(name), encoding: .utf8)
        let decoder = JSONDecoder()
        return try text.split(separator: "\n").map { try decoder.decode(T.self, from: Data($0.utf8)) }
    }

    struct CorpusMissing: Error, CustomStringConvertible {
        var description: String { "shared/corpora/http not found: set LONGRM_CORPORA" }
    }
}

/// One case of `llhttp-request-cases.jsonl`.
struct LLHTTPCase: Decodable {
    struct Meta: Decodable {
        var type: String
        var skipBody: Bool?
    }
    struct Message: Decodable {
        var method: String
        var url: String
        var version: String
        var headers: [[String]]
        var body: String
        var complete: Bool
    }
    var name: String
    var file: String
    var line: Int
    var meta: Meta
    var raw_b64: String
    var outcome: String
    var messages: [Message]

    var bytes: [UInt8] { Array(Data(base64Encoded: raw_b64) ?? Data()) }
    var id: String { "\(file):\(line) \(name)" }
}

/// One request of `http-parser-requests.jsonl`.
struct HTTPParserCase: Decodable {
    var index: Int
    var name: String
    var raw: String
    var method: String
    var url: String
    var http: String
    var keep_alive: Int
    var headers: [[String]]
    var body: String

    var bytes: [UInt8] { Array(raw.utf8) }
}
