import Foundation

/// A sentence of filler text; `paragraphStart` keeps the source's paragraph breaks.
public struct FillerUnit: Sendable, Equatable {
    public var text: String
    public var paragraphStart: Bool

    public init(text: String, paragraphStart: Bool) {
        self.text = text
        self.paragraphStart = paragraphStart
    }
}

/// An endless supply of filler sentences.
public protocol FillerSource {
    mutating func next() -> FillerUnit
}

/// Sentences from real text, read in order from a seeded starting point and wrapping around.
public struct CorpusFiller: FillerSource {
    let units: [FillerUnit]
    var position: Int

    public init(corpus: FillerCorpus, generator: inout SeededRandom) {
        precondition(!corpus.units.isEmpty)
        units = corpus.units
        // Start at a paragraph so the context does not open mid-thought.
        let starts = corpus.units.indices.filter { corpus.units[$0].paragraphStart }
        position = starts.isEmpty ? generator.int(below: units.count) : generator.pick(starts)
    }

    public mutating func next() -> FillerUnit {
        var unit = units[position]
        if position == 0 { unit.paragraphStart = true }
        position = (position + 1) % units.count
        return unit
    }
}

/// Text split into sentences, from a folder of `.txt` files or a JSONL file with a `text` field.
public struct FillerCorpus: Sendable {
    public var units: [FillerUnit]

    public init(units: [FillerUnit]) {
        self.units = units
    }

    public init(texts: [String]) {
        units = texts.flatMap(Self.split)
    }

    public static func load(path: String) throws -> FillerCorpus {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw RecordError("no such filler file or folder: \(path)")
        }
        var texts: [String] = []
        if isDirectory.boolValue {
            let names = try FileManager.default.contentsOfDirectory(atPath: path).filter { $0.hasSuffix(".txt") }
                .sorted()
            for name in names {
                texts.append(
                    try String(contentsOfFile: (path as NSString).appendingPathComponent(name), encoding: .utf8))
            }
        } else {
            let data = try Data(contentsOf: URL(fileURLWithPath: path))
            if path.hasSuffix(".jsonl") {
                let (values, issues) = JSONLines.values(of: data, file: path)
                if let issue = issues.first { throw RecordError("\(issue)") }
                texts = values.compactMap { $0.value["text"]?.stringValue }
            } else {
                texts = [String(decoding: data, as: UTF8.self)]
            }
        }
        let corpus = FillerCorpus(texts: texts)
        if corpus.units.isEmpty { throw RecordError("filler corpus \(path) holds no text") }
        return corpus
    }

    /// Paragraphs at blank lines, sentences after `.`, `!` or `?` (and closing quotes) before whitespace.
    public static func split(_ text: String) -> [FillerUnit] {
        var units: [FillerUnit] = []
        let normalized = text.replacingOccurrences(of: "\r\n", with: "\n")
        for paragraph in normalized.components(separatedBy: "\n\n") {
            let words = paragraph.split(whereSeparator: \.isWhitespace)
            guard !words.isEmpty else { continue }
            var sentence: [Substring] = []
            var first = true
            for word in words {
                sentence.append(word)
                if endsSentence(word) {
                    units.append(FillerUnit(text: sentence.joined(separator: " "), paragraphStart: first))
                    sentence = []
                    first = false
                }
            }
            if !sentence.isEmpty {
                units.append(FillerUnit(text: sentence.joined(separator: " "), paragraphStart: first))
            }
        }
        return units
    }

    static func endsSentence(_ word: Substring) -> Bool {
        guard let last = word.reversed().first(where: { !"\"')]”’".contains($0) }) else { return false }
        return ".!?".contains(last)
    }
}
