import Foundation

/// Log-probabilities from a logits row, in Double so long rows sum without losing small terms. Concrete
/// over `UnsafeBufferPointer<Float>`: a generic loop runs a witness call per element in debug builds (the
/// test builds), which made every 262K-entry row cost milliseconds.
enum LogSoftmax {
    static func logSumExp(_ row: UnsafeBufferPointer<Float>) -> Double {
        var maximum = -Float.infinity
        for x in row where x > maximum { maximum = x }
        var sum = 0.0
        for x in row { sum += Double(expf(x - maximum)) }
        return Double(maximum) + Foundation.log(sum)
    }

    static func logProbability(of token: Int32, in row: UnsafeBufferPointer<Float>) -> Float {
        Float(Double(row[Int(token)]) - logSumExp(row))
    }

    static func logProbability(of token: Int32, in row: [Float]) -> Float {
        row.withUnsafeBufferPointer { logProbability(of: token, in: $0) }
    }

    static func logProbabilities(of tokens: [Int32], in row: UnsafeBufferPointer<Float>) -> [Float] {
        let lse = logSumExp(row)
        return tokens.map { Float(Double(row[Int($0)]) - lse) }
    }
}
