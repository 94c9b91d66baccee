import Foundation

public struct BenchOptions: Sendable {
    public var method: String?
    public var normalize: String?
    public var truncation: String?
    public var timeoutMs: Int?
    public var seed: UInt64
    public var concurrency: Int
    /// Method judge: template name, `probability` | `generate`, generation cap (sent as request fields).
    public var judgeTemplate: String?
    public var judgeMode: String?
    public var maxNewTokens: Int?

    public init(
        method: String? = nil, normalize: String? = nil, truncation: String? = nil, timeoutMs: Int? = nil,
        seed: UInt64 = 0, concurrency: Int = 1, judgeTemplate: String? = nil, judgeMode: String? = nil,
        maxNewTokens: Int? = nil
    ) {
        self.judgeTemplate = judgeTemplate
        self.judgeMode = judgeMode
        self.maxNewTokens = maxNewTokens
        self.method = method
        self.normalize = normalize
        self.truncation = truncation
        self.timeoutMs = timeoutMs
        self.seed = seed
        self.concurrency = max(1, concurrency)
    }
}

/// Sends records to a server and grades the answers. No file or terminal I/O: the caller gets each result
/// through `onResult` (to append it to the results file and move the progress bar).
public enum BenchRunner {
    /// Records still to do: those without a successful result already (failed ones are tried again).
    public static func pending(_ records: [BenchRecord], done existing: [String: ItemResult]) -> [BenchRecord] {
        records.filter { record in
            guard let previous = existing[record.key] else { return true }
            return previous.failed
        }
    }

    /// Methods (or normalisations) in earlier results that differ from those asked for: resuming would mix
    /// two measurements in one summary.
    public static func conflictingMethods(
        _ existing: [String: ItemResult], method: String?, normalize: String? = nil
    ) -> [String] {
        let done = existing.values.filter { !$0.failed }
        var conflicts = Set<String>()
        if let method { conflicts.formUnion(done.compactMap(\.method).filter { $0 != method }) }
        if let normalize { conflicts.formUnion(done.compactMap(\.normalize).filter { $0 != normalize }) }
        return conflicts.sorted()
    }

    public static func request(for record: BenchRecord, presentation: Presentation, options: BenchOptions)
        -> ScoreRequest
    {
        ScoreRequest(
            messages: record.messages, responses: presentation.present(record.responses), method: options.method,
            normalize: options.normalize, truncation: options.truncation, timeoutMs: options.timeoutMs,
            judgeTemplate: options.judgeTemplate, judgeMode: options.judgeMode, maxNewTokens: options.maxNewTokens)
    }

    /// Scores one record; server errors become a failed result rather than stopping the run.
    public static func evaluate(_ record: BenchRecord, client: any RewardClient, options: BenchOptions) async throws
        -> ItemResult
    {
        let presentation = Presentation(count: record.responses.count, seed: options.seed, key: record.key)
        let request = request(for: record, presentation: presentation, options: options)
        let start = Date()
        var result: ItemResult
        do {
            switch record.taskType {
            case .pairWise:
                result = Grading.result(
                    for: record, presentation: presentation, pairwise: try await client.pairwise(request))
            case .bestOfN:
                result = Grading.result(
                    for: record, presentation: presentation, bestOfN: try await client.bestOfN(request))
            }
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            result = Grading.failure(for: record, presentation: presentation, error: "\(error)")
        }
        result.seconds = (Date().timeIntervalSince(start) * 1000).rounded() / 1000
        return result
    }

    /// Runs `records` with at most `options.concurrency` requests in flight; results come back in
    /// completion order through `onResult` and, in record order, as the return value.
    public static func run(
        _ records: [BenchRecord], client: any RewardClient, options: BenchOptions,
        onResult: @escaping @Sendable (ItemResult) async throws -> Void
    ) async throws -> [ItemResult] {
        try await boundedMap(records, concurrency: options.concurrency) { record in
            let result = try await evaluate(record, client: client, options: options)
            try await onResult(result)
            return result
        }
    }
}

/// Maps with at most `concurrency` operations running at once, keeping the input order in the output.
public func boundedMap<Input: Sendable, Output: Sendable>(
    _ inputs: [Input], concurrency: Int, _ transform: @escaping @Sendable (Input) async throws -> Output
) async throws -> [Output] {
    var outputs = [Output?](repeating: nil, count: inputs.count)
    try await withThrowingTaskGroup(of: (Int, Output).self) { group in
        var next = 0
        func launch() {
            guard next < inputs.count else { return }
            let index = next
            let input = inputs[index]
            next += 1
            group.addTask { (index, try await transform(input)) }
        }
        for _ in 0..<max(1, concurrency) { launch() }
        while let (index, output) = try await group.next() {
            outputs[index] = output
            launch()
        }
    }
    return outputs.map { $0! }
}
