/// Counts tokens of a text. The library stays free of any model: the CLI passes the model's tokenizer,
/// tests pass a deterministic fake.
public protocol TokenCounter {
    func count(_ text: String) -> Int
}

/// About four characters per token, the usual estimate for English with BPE vocabularies.
public struct ApproxTokenCounter: TokenCounter {
    public init() {}

    public func count(_ text: String) -> Int {
        (text.unicodeScalars.count + 3) / 4
    }
}

/// Wraps any counting function, e.g. `{ model.tokenize($0, addSpecial: false).count }`.
public struct FunctionTokenCounter: TokenCounter {
    let function: (String) -> Int

    public init(_ function: @escaping (String) -> Int) {
        self.function = function
    }

    public func count(_ text: String) -> Int {
        function(text)
    }
}
