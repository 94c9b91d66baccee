/// SplitMix64: small, fast and identical on every platform, so a seed means the same thing everywhere
/// (Swift's `SystemRandomNumberGenerator` cannot be seeded).
public struct SeededRandom: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) {
        state = seed
    }

    /// A generator for one item, independent of the order in which items are processed (concurrency and
    /// resuming must not change what an item sees).
    public init(seed: UInt64, key: String) {
        self.init(seed: seed ^ StableHash.fnv1a(key))
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in 0..<bound. Written here (not `Int.random(in:using:)`) so the sequence cannot change with
    /// the standard library's version; the modulo bias is below 2^-40 for the small bounds used here.
    public mutating func int(below bound: Int) -> Int {
        precondition(bound > 0)
        return Int(next() % UInt64(bound))
    }

    /// Fisher–Yates with this generator, stable across Swift versions for the same reason.
    public mutating func shuffle<T>(_ items: inout [T]) {
        guard items.count > 1 else { return }
        for index in stride(from: items.count - 1, to: 0, by: -1) {
            items.swapAt(index, int(below: index + 1))
        }
    }

    public mutating func pick<T>(_ items: [T]) -> T {
        items[int(below: items.count)]
    }

    /// Uniform in [0, 1).
    public mutating func unit() -> Double {
        Double(next() >> 11) * 0x1.0p-53
    }
}

public enum StableHash {
    /// FNV-1a over UTF-8: Swift's `Hasher` is seeded per process, so it cannot name an item across runs.
    public static func fnv1a(_ text: String) -> UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01B3
        }
        return hash
    }
}
