import Foundation

/// Reading and appending the results JSONL that makes `bench` resumable.
public enum ResultsStore {
    /// Every readable result line, in file order; unreadable lines (a crash mid-write) become issues.
    public static func load(data: Data, name: String) -> (results: [ItemResult], issues: [LineIssue]) {
        var results: [ItemResult] = []
        var issues: [LineIssue] = []
        let decoder = JSONDecoder()
        for (number, text) in JSONLines.lines(of: data) {
            do {
                results.append(try decoder.decode(ItemResult.self, from: Data(text.utf8)))
            } catch {
                issues.append(
                    LineIssue(file: name, line: number, message: "unreadable result: \(JSONLines.describe(error))"))
            }
        }
        return (results, issues)
    }

    public static func load(path: String) throws -> (results: [ItemResult], issues: [LineIssue]) {
        guard FileManager.default.fileExists(atPath: path) else { return ([], []) }
        return load(data: try Data(contentsOf: URL(fileURLWithPath: path)), name: (path as NSString).lastPathComponent)
    }

    /// The last line written for each key wins: a retried failure replaces the failure.
    public static func latest(_ results: [ItemResult]) -> [String: ItemResult] {
        var latest: [String: ItemResult] = [:]
        for result in results { latest[result.key] = result }
        return latest
    }

    public static func encodeLine(_ result: ItemResult) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var data = try encoder.encode(result)
        data.append(0x0A)
        return data
    }
}

/// Appends whole lines to a JSONL file and flushes each, so a killed run loses at most the line in flight.
public actor LineWriter {
    private let handle: FileHandle

    public init(path: String) throws {
        let manager = FileManager.default
        if !manager.fileExists(atPath: path) {
            guard manager.createFile(atPath: path, contents: nil) else {
                throw RecordError("cannot create \(path)")
            }
        }
        handle = try FileHandle(forUpdating: URL(fileURLWithPath: path))
        let end = try handle.seekToEnd()
        if end > 0 {
            // A run killed mid-line leaves no newline; start fresh so the next line stays readable.
            try handle.seek(toOffset: end - 1)
            let last = try handle.read(upToCount: 1)
            try handle.seekToEnd()
            if last != Data([0x0A]) { try handle.write(contentsOf: Data([0x0A])) }
        }
    }

    public func append(_ line: Data) throws {
        try handle.write(contentsOf: line)
        try handle.synchronize()
    }

    public func close() throws {
        try handle.close()
    }
}
