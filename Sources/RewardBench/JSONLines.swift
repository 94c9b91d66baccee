import Foundation

/// A line that could not be used, with its 1-based line number.
public struct LineIssue: Sendable, Equatable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var message: String

    public init(file: String, line: Int, message: String) {
        self.file = file
        self.line = line
        self.message = message
    }

    public var description: String { "\(file):\(line): \(message)" }
}

public enum JSONLines {
    /// Splits into (line number, text) pairs, skipping blank lines. Works on bytes so a multi-megabyte line
    /// (a 128K-token context) costs one pass.
    public static func lines(of data: Data) -> [(number: Int, text: Substring)] {
        let text = String(decoding: data, as: UTF8.self)
        var result: [(number: Int, text: Substring)] = []
        var number = 0
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            number += 1
            let trimmed = line.hasSuffix("\r") ? line.dropLast() : line
            if trimmed.allSatisfy(\.isWhitespace) { continue }
            result.append((number, trimmed))
        }
        return result
    }

    public static func parse(_ text: Substring) throws -> JSONValue {
        try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
    }

    /// Parses every line; failures become issues with their line number instead of stopping the load.
    public static func values(of data: Data, file: String) -> (
        values: [(line: Int, value: JSONValue)], issues: [LineIssue]
    ) {
        var values: [(line: Int, value: JSONValue)] = []
        var issues: [LineIssue] = []
        for (number, text) in lines(of: data) {
            do {
                values.append((number, try parse(text)))
            } catch {
                issues.append(LineIssue(file: file, line: number, message: "invalid JSON: \(describe(error))"))
            }
        }
        return (values, issues)
    }

    static func describe(_ error: any Error) -> String {
        if let decoding = error as? DecodingError {
            switch decoding {
            case .dataCorrupted(let context): return context.debugDescription
            case .keyNotFound(let key, _): return "missing key \(key.stringValue)"
            case .typeMismatch(_, let context), .valueNotFound(_, let context): return context.debugDescription
            @unknown default: return "\(decoding)"
            }
        }
        return "\(error)"
    }
}

public struct LoadedRecords: Sendable {
    public var records: [BenchRecord]
    public var issues: [LineIssue]
}

public enum RecordLoader {
    /// Loads Long-RewardBench JSONL from data already read; `name` is the file name (for keys and messages).
    /// `keepRaw: false` drops each record's JSON after parsing (bench never writes records back, and the
    /// real dataset's contexts would otherwise be held twice).
    public static func load(data: Data, name: String, keepRaw: Bool = true) -> LoadedRecords {
        let stem = (name as NSString).deletingPathExtension
        let (values, issues) = JSONLines.values(of: data, file: name)
        var records: [BenchRecord] = []
        var allIssues = issues
        for (line, value) in values {
            do {
                var record = try BenchRecord(json: value, fileStem: stem, line: line)
                if !keepRaw { record.raw = .null }
                records.append(record)
            } catch {
                allIssues.append(LineIssue(file: name, line: line, message: error.message))
            }
        }
        allIssues.sort { $0.line < $1.line }
        return LoadedRecords(records: records, issues: allIssues)
    }

    /// Loads files and folders (a folder contributes its `*.jsonl`, sorted by name).
    public static func load(paths: [String], keepRaw: Bool = true) throws -> LoadedRecords {
        var result = LoadedRecords(records: [], issues: [])
        var seen = Set<String>()
        for file in try expand(paths: paths) {
            let data = try Data(contentsOf: URL(fileURLWithPath: file))
            let loaded = load(data: data, name: (file as NSString).lastPathComponent, keepRaw: keepRaw)
            for record in loaded.records {
                // Two records with one key would make resuming skip the second; keep them apart.
                var record = record
                if seen.contains(record.key) { record.key += "@line\(record.line)" }
                seen.insert(record.key)
                result.records.append(record)
            }
            result.issues += loaded.issues
        }
        return result
    }

    public static func expand(paths: [String]) throws -> [String] {
        var files: [String] = []
        let manager = FileManager.default
        for path in paths {
            var isDirectory: ObjCBool = false
            guard manager.fileExists(atPath: path, isDirectory: &isDirectory) else {
                throw RecordError("no such file or folder: \(path)")
            }
            if isDirectory.boolValue {
                let names = try manager.contentsOfDirectory(atPath: path).filter { $0.hasSuffix(".jsonl") }.sorted()
                files += names.map { (path as NSString).appendingPathComponent($0) }
            } else {
                files.append(path)
            }
        }
        return files
    }
}
