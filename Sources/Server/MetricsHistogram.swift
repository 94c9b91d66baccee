/// A fixed-bucket histogram (per-bucket counts, not cumulative; `MetricsText` accumulates them).
struct MetricsHistogram: Sendable {
    /// Seconds: from a fast /health answer to a cold 128K-token prefill on a small CPU host (minutes).
    static let latencyBounds: [Double] = [
        0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800,
    ]

    let bounds: [Double]
    private(set) var counts: [Int]
    private(set) var count = 0
    private(set) var sum = 0.0

    init(bounds: [Double] = MetricsHistogram.latencyBounds) {
        self.bounds = bounds
        counts = [Int](repeating: 0, count: bounds.count)
    }

    mutating func observe(_ value: Double) {
        guard value.isFinite else { return }
        // Few buckets: a linear scan is as fast as a binary search here.
        if let i = bounds.firstIndex(where: { value <= $0 }) { counts[i] += 1 }
        count += 1
        sum += value
    }
}
