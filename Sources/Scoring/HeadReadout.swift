/// Splits classifier outputs back into each response's final label vector and, for step rewards, one label vector
/// per step separator. A `ScoreHead` output holds K values per scored position, in position order; rank pooling
/// returns one K-vector per sequence.
struct HeadReadout {
    var finals: [[Double]] = []
    var steps: [[[Double]]] = []

    init(plan: GroupPlan, values: [[Float]], labels: Int, head: ScoreHead?, stepSeparator: Int32?) {
        for (suffix, output) in zip(plan.suffixes, values) {
            let vectors = stride(from: 0, to: output.count, by: max(1, labels)).map { start in
                output[start..<min(start + labels, output.count)].map(Double.init)
            }
            guard let head, case .head(let positions) = suffix.output else {
                finals.append(vectors.first ?? [0])
                steps.append([])
                continue
            }
            let at = Dictionary(uniqueKeysWithValues: zip(positions, vectors))
            finals.append(at[head.poolingIndex(in: suffix.tokens)] ?? [])
            let separators =
                stepSeparator.map { separator in suffix.tokens.indices.filter { suffix.tokens[$0] == separator } } ?? []
            steps.append(separators.compactMap { at[$0] })
        }
    }
}
