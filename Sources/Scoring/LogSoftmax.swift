import Foundation

/// Log-probabilities from a logits row, in Double so long rows sum without losing small terms.
enum LogSoftmax {
    static func logSumExp<C: Collection>(_ row: C) -> Double where C.Element == Float {
        var maximum = -Float.infinity
        for x in row where x > maximum { maximum = x }
        var sum = 0.0
        for x in row { sum += Double(expf(x - maximum)) }
        return Double(maximum) + Foundation.log(sum)
    }

    static func logProbability<C: Collection>(of token: Int32, in row: C) -> Float where C.Element == Float, C.Index == Int {
        Float(Double(row[row.startIndex + Int(token)]) - logSumExp(row))
    }

    static func logProbabilities(of tokens: [Int32], in row: UnsafeBufferPointer<Float>) -> [Float] {
        let lse = logSumExp(row)
        return tokens.map { Float(Double(row[Int($0)]) - lse) }
    }
}
