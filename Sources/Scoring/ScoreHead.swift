/// A sequence-classification head (`score`, K × hidden, optional bias) as transformers applies it: to the
/// final-norm hidden state of one token. Converted reward models carry it in GGUF metadata (`longrm.head.*`,
/// written by scripts/convert-rm.sh) because llama.cpp refuses tensors it does not know; the server applies it in
/// Swift to the hidden states llama.cpp returns, so prefix sharing works exactly as for any causal model.
public struct ScoreHead: Sendable, Equatable {
    public let labels: [String]
    public let hiddenSize: Int
    /// Row-major K × hiddenSize, as torch stores `score.weight`.
    let weight: [Float]
    let bias: [Float]?
    /// transformers pools at the last token that is not the pad token.
    let padToken: Int32?
    /// A single token marking the end of each reasoning step (process reward models); nil when the model has none.
    public let stepSeparator: String?
    public let sourceArchitecture: String

    init(
        labels: [String], hiddenSize: Int, weight: [Float], bias: [Float]?, padToken: Int32?, stepSeparator: String?,
        sourceArchitecture: String
    ) {
        self.labels = labels; self.hiddenSize = hiddenSize; self.weight = weight; self.bias = bias
        self.padToken = padToken; self.stepSeparator = stepSeparator; self.sourceArchitecture = sourceArchitecture
    }

    /// K logits for one hidden state. Accumulated in Double: the head is tiny next to the model, and a sum over 4096
    /// products in Float would add its own rounding on top of the engine's.
    func apply(_ hidden: UnsafeBufferPointer<Float>) -> [Float] {
        (0..<labels.count).map { k in
            var sum = Double(bias?[k] ?? 0)
            let row = k * hiddenSize
            for j in 0..<hiddenSize { sum += Double(weight[row + j]) * Double(hidden[j]) }
            return Float(sum)
        }
    }

    /// Where transformers reads the sequence's score: the last token that is not the pad token.
    func poolingIndex(in tokens: [Int32]) -> Int {
        guard let padToken else { return tokens.count - 1 }
        return tokens.lastIndex { $0 != padToken } ?? tokens.count - 1
    }
}
