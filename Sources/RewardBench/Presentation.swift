/// The order in which an item's responses are shown to the server. `order[k]` is the original index of the
/// response shown at position k, so server answers (positions) map back through it.
public struct Presentation: Sendable, Equatable {
    public var order: [Int]

    public init(order: [Int]) {
        self.order = order
    }

    /// A seeded random order for one item (a Fisher–Yates shuffle driven by the item's own generator).
    public init(count: Int, seed: UInt64, key: String) {
        var generator = SeededRandom(seed: seed, key: key)
        var order = Array(0..<count)
        generator.shuffle(&order)
        self.order = order
    }

    public func present<T>(_ items: [T]) -> [T] {
        order.map { items[$0] }
    }

    /// Original index of the response the server saw at `position`.
    public func original(_ position: Int) -> Int {
        order[position]
    }

    /// Values the server gave per shown position, put back in original order.
    public func restore<T>(_ shown: [T]) -> [T] {
        precondition(shown.count == order.count)
        var result = shown
        for (position, index) in order.enumerated() { result[index] = shown[position] }
        return result
    }
}
