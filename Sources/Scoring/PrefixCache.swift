/// Which KV-cache sequences of one worker hold which token prefixes. Pure bookkeeping, no llama.cpp: the
/// session applies its decisions. Least recently used entries are evicted first.
struct PrefixCache: Sendable {
    struct Entry: Sendable {
        var tokens: [Int32]
        var sequence: Int32
        var lastUse: UInt64
        /// Logits after the prefix's last token: predicts the first token of every continuation (empty for a
        /// partial entry).
        var nextTokenLogits: [Float]
        /// What an abandoned prefill left (no level boundary): only ever a base to continue from.
        var isPartial = false
    }

    private(set) var entries: [Entry] = []
    let sequences: [Int32]
    let maxTokens: Int
    private var clock: UInt64 = 0

    init(sequences: [Int32], maxTokens: Int) {
        self.sequences = sequences
        self.maxTokens = maxTokens
    }

    var cachedTokens: Int { entries.reduce(0) { $0 + $1.tokens.count } }

    /// The entry holding exactly these tokens.
    mutating func exact(_ tokens: [Int32]) -> Entry? {
        guard let i = entries.firstIndex(where: { !$0.isPartial && $0.tokens == tokens }) else { return nil }
        touch(i)
        return entries[i]
    }

    /// The longest entry that is a proper prefix of `tokens`.
    mutating func longestPrefix(of tokens: [Int32]) -> Entry? {
        var best: Int?
        for (i, e) in entries.enumerated()
        where e.tokens.count < tokens.count && tokens.starts(with: e.tokens)
            && e.tokens.count > (best.map { entries[$0].tokens.count } ?? 0)
        {
            best = i
        }
        guard let i = best else { return nil }
        touch(i)
        return entries[i]
    }

    /// A sequence to write a new prefix into: a free one, else the least recently used entry's, never one
    /// of `protected`. Nil when every sequence is protected.
    mutating func acquire(protecting protected: Set<Int32>) -> Int32? {
        let used = Set(entries.map(\.sequence))
        if let free = sequences.first(where: { !used.contains($0) && !protected.contains($0) }) { return free }
        guard
            let victim = entries.indices.filter({ !protected.contains(entries[$0].sequence) })
                .min(by: { entries[$0].lastUse < entries[$1].lastUse })
        else { return nil }
        return entries.remove(at: victim).sequence
    }

    /// Records a prefix, then evicts least recently used entries (other than the new one and `protected`)
    /// while the cached tokens exceed the budget. Returns the sequences whose entries were evicted.
    @discardableResult
    mutating func insert(
        tokens: [Int32], sequence: Int32, nextTokenLogits: [Float], isPartial: Bool = false,
        protecting protected: Set<Int32>
    ) -> [Int32] {
        entries.removeAll { $0.sequence == sequence }
        clock += 1
        entries.append(
            Entry(
                tokens: tokens, sequence: sequence, lastUse: clock, nextTokenLogits: nextTokenLogits,
                isPartial: isPartial))
        var evicted: [Int32] = []
        while cachedTokens > maxTokens {
            guard
                let victim = entries.indices.filter({
                    entries[$0].sequence != sequence && !protected.contains(entries[$0].sequence)
                })
                .min(by: { entries[$0].lastUse < entries[$1].lastUse })
            else { break }
            evicted.append(entries.remove(at: victim).sequence)
        }
        return evicted
    }

    mutating func remove(sequence: Int32) { entries.removeAll { $0.sequence == sequence } }

    private mutating func touch(_ i: Int) {
        clock += 1
        entries[i].lastUse = clock
    }
}
