/// Which KV-cache sequences of one worker hold which token prefixes. Pure bookkeeping, no llama.cpp: the
/// session applies its decisions. Least recently used entries are evicted first.
///
/// Reuse is at token level, under one rule that keeps rewards independent of what the cache held: a prefix is
/// decoded in micro-batches that end at every multiple of the grid (the micro-batch size) and at every level
/// start, so a token is always computed in the same micro-batch shape. A cached entry may serve a new prefix up
/// to a point where both were split and below which they were split alike; the rest is decoded fresh. The CPU
/// kernels round differently by micro-batch shape (logits moved by up to 1.9 when a restart broke the shape,
/// measured on the default model), so any other restart point would make a reward depend on the cache.
struct PrefixCache: Sendable {
    struct Entry: Sendable {
        var tokens: [Int32]
        /// Where the levels it was decoded as begin, after 0 (ascending): its micro-batches end there too.
        var levelStarts: [Int] = []
        var sequence: Int32
        var lastUse: UInt64
        /// Logits after the prefix's last token: predicts the first token of every continuation (empty for a
        /// partial entry).
        var nextTokenLogits: [Float]
        /// What an abandoned prefill left (no level boundary): only ever a base to continue from.
        var isPartial = false
        /// `ContextKey.of(tokens)`, computed once: what affinity and pins name the entry by.
        var key: String
    }

    private(set) var entries: [Entry] = []
    /// Keys of pinned contexts (`PinBoard`): their entries are never evicted.
    var pinnedKeys: Set<String> = []
    let sequences: [Int32]
    let maxTokens: Int
    private var clock: UInt64 = 0

    init(sequences: [Int32], maxTokens: Int) {
        self.sequences = sequences
        self.maxTokens = maxTokens
    }

    var cachedTokens: Int { entries.reduce(0) { $0 + $1.tokens.count } }

    /// The entry holding exactly these tokens, decoded as these levels.
    mutating func exact(_ tokens: [Int32], levelStarts: [Int] = []) -> Entry? {
        guard
            let i = entries.firstIndex(where: {
                !$0.isPartial && $0.tokens == tokens && $0.levelStarts == levelStarts
            })
        else { return nil }
        touch(i)
        return entries[i]
    }

    /// A cached entry to start `tokens` from, and how many of its tokens to keep.
    struct Reuse: Sendable, Equatable {
        var sequence: Int32
        var keep: Int
        /// The whole entry is kept: nothing of it is cut off.
        var isWhole: Bool
        var isPartial: Bool
    }

    /// The entry that saves the most decoding of `tokens` (levels starting at `levelStarts`), keeping at least
    /// one token to decode. `lowestRestart` gives, per entry, the first position it can be cut at (a sliding-
    /// window cache has dropped the cells a cut further back would need).
    mutating func bestReuse(
        for tokens: [Int32], levelStarts: [Int], grid: Int, lowestRestart: (Entry) -> Int = { _ in 0 }
    ) -> Reuse? {
        var best: (index: Int, keep: Int)?
        for (i, entry) in entries.enumerated() {
            let keep = Self.restartPoint(
                cached: entry.tokens, cachedStarts: entry.levelStarts, wanted: tokens, wantedStarts: levelStarts,
                grid: grid)
            guard keep > 0, keep == entry.tokens.count || keep >= lowestRestart(entry) else { continue }
            if let b = best, b.keep > keep || (b.keep == keep && entries[b.index].lastUse > entry.lastUse) { continue }
            best = (i, keep)
        }
        guard let (i, keep) = best else { return nil }
        touch(i)
        return Reuse(
            sequence: entries[i].sequence, keep: keep, isWhole: keep == entries[i].tokens.count,
            isPartial: entries[i].isPartial)
    }

    /// The furthest position at which a prefix decoded as `cached` (split at `cachedStarts` and the grid, up to
    /// its end) can be cut so that decoding `wanted` on from there gives what decoding `wanted` whole would:
    /// the tokens agree up to it, both were split there, and alike below it. 0 when there is none; always short
    /// of `wanted`'s end, whose logits must be computed.
    static func restartPoint(cached: [Int32], cachedStarts: [Int], wanted: [Int32], wantedStarts: [Int], grid: Int)
        -> Int
    {
        var limit = min(cached.count, wanted.count - 1)
        var common = 0
        while common < limit && cached[common] == wanted[common] { common += 1 }
        limit = common
        // Below the first level start only one of them has, the two were split differently.
        let disagreement = Set(cachedStarts).symmetricDifference(wantedStarts).min() ?? .max
        limit = min(limit, disagreement)
        guard limit > 0 else { return 0 }
        let wantedSplits = Set(wantedStarts)
        let cachedSplits = Set(cachedStarts).union([cached.count])
        var point = limit
        while point > 0 {
            let onGrid = point % grid == 0
            if (onGrid || wantedSplits.contains(point)) && (onGrid || cachedSplits.contains(point)) { return point }
            // The next candidate below: the previous grid line or a level start above it.
            let gridLine = (point - 1) / grid * grid
            let starts = wantedSplits.union(cachedSplits).filter { $0 < point && $0 > gridLine }
            point = starts.max() ?? gridLine
        }
        return 0
    }

    /// A sequence to write a new prefix into: a free one, else the least recently used entry's, never one
    /// of `protected`. Nil when every sequence is protected.
    mutating func acquire(protecting protected: Set<Int32>) -> Int32? {
        let used = Set(entries.map(\.sequence))
        if let free = sequences.first(where: { !used.contains($0) && !protected.contains($0) }) { return free }
        guard
            let victim = entries.indices.filter({ isEvictable(entries[$0], protecting: protected) })
                .min(by: { entries[$0].lastUse < entries[$1].lastUse })
        else { return nil }
        return entries.remove(at: victim).sequence
    }

    /// Records a prefix, then evicts least recently used entries (other than the new one and `protected`)
    /// while the cached tokens exceed the budget. Returns the sequences whose entries were evicted.
    @discardableResult
    mutating func insert(
        tokens: [Int32], levelStarts: [Int] = [], sequence: Int32, nextTokenLogits: [Float], isPartial: Bool = false,
        protecting protected: Set<Int32>
    ) -> [Int32] {
        entries.removeAll { $0.sequence == sequence }
        clock += 1
        entries.append(
            Entry(
                tokens: tokens, levelStarts: levelStarts, sequence: sequence, lastUse: clock,
                nextTokenLogits: nextTokenLogits, isPartial: isPartial, key: ContextKey.of(tokens)))
        var evicted: [Int32] = []
        while cachedTokens > maxTokens {
            guard
                let victim = entries.indices.filter({
                    entries[$0].sequence != sequence && isEvictable(entries[$0], protecting: protected)
                })
                .min(by: { entries[$0].lastUse < entries[$1].lastUse })
            else { break }
            evicted.append(entries.remove(at: victim).sequence)
        }
        return evicted
    }

    mutating func remove(sequence: Int32) { entries.removeAll { $0.sequence == sequence } }

    private func isEvictable(_ entry: Entry, protecting protected: Set<Int32>) -> Bool {
        !protected.contains(entry.sequence) && (entry.isPartial || !pinnedKeys.contains(entry.key))
    }

    private mutating func touch(_ i: Int) {
        clock += 1
        entries[i].lastUse = clock
    }
}
