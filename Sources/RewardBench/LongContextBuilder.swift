/// A sentence placed into the filler at a relative depth (0 = start, 1 = end of the context).
public struct Insertion: Sendable, Equatable {
    public var text: String
    public var depth: Double

    public init(text: String, depth: Double) {
        self.text = text
        self.depth = min(max(depth, 0), 1)
    }
}

public struct BuiltContext: Sendable, Equatable {
    public var context: String
    public var messages: [ChatMessage]
    /// Tokens of the whole prompt (message contents joined by blank lines), by the counter given.
    public var tokens: Int
    /// Where the first insertion (the evidence) ended up: filler tokens before it / all filler tokens.
    public var evidenceDepth: Double
}

/// Grows filler around inserted sentences until the whole prompt has the target number of tokens.
///
/// Tokens are not additive (merges across joins), so every candidate is measured whole: first a search over
/// whole filler sentences, then, if that is not close enough, over words of one more sentence. That piece
/// sits at the end of the filler, or at its start (as the tail of a sentence) when the evidence is in the
/// second half, so it never touches the evidence. Insertions always fall between whole sentences.
public struct LongContextBuilder {
    public var target: Int
    /// Allowed relative miss; the search aims well inside it.
    public var tolerance: Double
    public var render: (String) -> [ChatMessage]

    public init(target: Int, tolerance: Double = 0.02, render: @escaping (String) -> [ChatMessage]) {
        self.target = target
        self.tolerance = tolerance
        self.render = render
    }

    /// The prompt text that is counted: message contents joined by blank lines.
    public static func promptText(_ messages: [ChatMessage]) -> String {
        messages.map(\.content).joined(separator: "\n\n")
    }

    public func build(
        insertions: [Insertion], filler source: inout some FillerSource, counter: some TokenCounter
    ) throws -> BuiltContext {
        var pool: [FillerUnit] = []
        func ensure(_ count: Int) {
            while pool.count < count { pool.append(source.next()) }
        }
        func measure(_ layout: Layout) -> Int {
            counter.count(Self.promptText(render(layout.text(pool: pool, insertions: insertions))))
        }
        let leadingPartial = (insertions.first?.depth ?? 0) >= 0.5

        let empty = measure(Layout(whole: 0, partialWords: 0, leadingPartial: leadingPartial))
        guard empty <= target else {
            throw RecordError("the prompt without filler already has \(empty) tokens (target \(target))")
        }
        // Start near the answer using a tokens-per-character estimate from a sample of the filler.
        ensure(64)
        let sample = pool.prefix(64).map(\.text).joined(separator: " ")
        let perChar = Double(max(1, counter.count(sample))) / Double(max(1, sample.unicodeScalars.count))
        var guess = 0
        var chars = 0.0
        while Double(chars) * perChar < Double(target - empty) {
            ensure(guess + 1)
            chars += Double(pool[guess].text.unicodeScalars.count + 1)
            guess += 1
        }

        // Bracket then bisect: largest whole-sentence count whose prompt stays within the target.
        func wholeTokens(_ count: Int) -> Int {
            ensure(count + 1)
            return measure(Layout(whole: count, partialWords: 0, leadingPartial: leadingPartial))
        }
        var low = 0, high = max(1, guess)
        if wholeTokens(high) <= target {
            low = high
            var step = max(1, high / 8)
            while true {
                high = low + step
                // A counter that never grows (a broken tokenizer) would otherwise loop forever.
                guard high < 1_000_000 else { throw RecordError("the token count does not grow with the filler") }
                if wholeTokens(high) > target { break }
                low = high
                step *= 2
            }
        }
        while high - low > 1 {
            let middle = (low + high) / 2
            if wholeTokens(middle) <= target { low = middle } else { high = middle }
        }
        var best = Layout(whole: low, partialWords: 0, leadingPartial: leadingPartial)
        var bestTokens = wholeTokens(low)

        // Close the rest of the gap with words from one more sentence.
        let aim = Double(target) * tolerance / 4
        if Double(target - bestTokens) > aim {
            ensure(low + 1)
            let words = pool[low].text.split(separator: " ").count
            var wordLow = 0, wordHigh = words
            while wordHigh - wordLow > 1 {
                let middle = (wordLow + wordHigh) / 2
                let layout = Layout(whole: low, partialWords: middle, leadingPartial: leadingPartial)
                if measure(layout) <= target { wordLow = middle } else { wordHigh = middle }
            }
            for count in [wordLow, wordHigh] where count > 0 {
                let layout = Layout(whole: low, partialWords: count, leadingPartial: leadingPartial)
                let tokens = measure(layout)
                if abs(tokens - target) < abs(bestTokens - target) {
                    best = layout
                    bestTokens = tokens
                }
            }
        }

        let context = best.text(pool: pool, insertions: insertions)
        let fillerOnly = best.text(pool: pool, insertions: [])
        var depth = 0.0
        if let evidence = insertions.first, let range = context.range(of: evidence.text) {
            let before = counter.count(String(context[..<range.lowerBound]))
            let others = insertions.dropFirst().filter { context[..<range.lowerBound].contains($0.text) }
                .reduce(0) { $0 + counter.count($1.text) }
            let total = counter.count(fillerOnly)
            depth = total == 0 ? 0 : min(1, Double(max(0, before - others)) / Double(total))
        }
        return BuiltContext(context: context, messages: render(context), tokens: bestTokens, evidenceDepth: depth)
    }
}

/// Which filler goes in: `whole` sentences plus `partialWords` words of the next one.
struct Layout {
    var whole: Int
    var partialWords: Int
    var leadingPartial: Bool

    func text(pool: [FillerUnit], insertions: [Insertion]) -> String {
        let pieces = Array(pool.prefix(whole))
        // Insertion points are sentence boundaries among the whole sentences.
        var slots: [[String]] = Array(repeating: [], count: pieces.count + 1)
        for insertion in insertions {
            slots[Int((insertion.depth * Double(pieces.count)).rounded())].append(insertion.text)
        }
        var partial: FillerUnit?
        if partialWords > 0, pool.count > whole {
            let words = pool[whole].text.split(separator: " ")
            let kept = leadingPartial ? words.suffix(partialWords) : words.prefix(partialWords)
            partial = FillerUnit(text: kept.joined(separator: " "), paragraphStart: true)
        }

        var text = ""
        func add(_ piece: String, paragraph: Bool) {
            if !text.isEmpty { text += paragraph ? "\n\n" : " " }
            text += piece
        }
        if leadingPartial, let partial { add(partial.text, paragraph: true) }
        for index in 0...pieces.count {
            for inserted in slots[index] { add(inserted, paragraph: false) }
            if index < pieces.count {
                add(
                    pieces[index].text,
                    paragraph: pieces[index].paragraphStart || (leadingPartial && partial != nil && index == 0))
            }
        }
        if !leadingPartial, let partial { add(partial.text, paragraph: false) }
        return text
    }
}
