/// Accuracy figures for one group of items (all, one task, or one length bucket).
public struct GroupStats: Sendable, Equatable, Codable {
    public var name: String
    public var pairCount = 0
    public var pairCorrect = 0
    public var bonCount = 0
    public var bonPositionSum = 0.0
    public var bonExact = 0
    /// Judge replies that said whether both presentation orders agreed.
    public var consistencyCount = 0
    public var consistentCount = 0
    public var failed = 0

    public init(name: String) {
        self.name = name
    }

    public var pairAccuracy: Double? { pairCount == 0 ? nil : Double(pairCorrect) / Double(pairCount) }
    public var bonPositionAccuracy: Double? { bonCount == 0 ? nil : bonPositionSum / Double(bonCount) }
    public var bonExactAccuracy: Double? { bonCount == 0 ? nil : Double(bonExact) / Double(bonCount) }
    public var consistencyRate: Double? {
        consistencyCount == 0 ? nil : Double(consistentCount) / Double(consistencyCount)
    }
    /// The paper's "AVG.": mean over items of 0/1 (pairs) and position accuracy (Best-of-N).
    public var overall: Double? {
        let count = pairCount + bonCount
        return count == 0 ? nil : (Double(pairCorrect) + bonPositionSum) / Double(count)
    }

    public mutating func add(_ result: ItemResult) {
        guard !result.failed, let score = result.score else {
            failed += 1
            return
        }
        switch result.taskType {
        case .pairWise:
            pairCount += 1
            if score == 1 { pairCorrect += 1 }
        case .bestOfN:
            bonCount += 1
            bonPositionSum += score
            if result.exact == true { bonExact += 1 }
        }
        if let consistent = result.consistent {
            consistencyCount += 1
            if consistent { consistentCount += 1 }
        }
    }

    enum CodingKeys: String, CodingKey {
        case name, failed
        case pairCount = "pair_count"
        case pairCorrect = "pair_correct"
        case bonCount = "bon_count"
        case bonPositionSum = "bon_position_sum"
        case bonExact = "bon_exact"
        case consistencyCount = "consistency_count"
        case consistentCount = "consistent_count"
        case pairAccuracy = "pair_accuracy"
        case bonPositionAccuracy = "bon_position_accuracy"
        case bonExactAccuracy = "bon_exact_accuracy"
        case consistencyRate = "consistency_rate"
        case overall
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        name = try container.decode(String.self, forKey: .name)
        failed = try container.decodeIfPresent(Int.self, forKey: .failed) ?? 0
        pairCount = try container.decodeIfPresent(Int.self, forKey: .pairCount) ?? 0
        pairCorrect = try container.decodeIfPresent(Int.self, forKey: .pairCorrect) ?? 0
        bonCount = try container.decodeIfPresent(Int.self, forKey: .bonCount) ?? 0
        bonPositionSum = try container.decodeIfPresent(Double.self, forKey: .bonPositionSum) ?? 0
        bonExact = try container.decodeIfPresent(Int.self, forKey: .bonExact) ?? 0
        consistencyCount = try container.decodeIfPresent(Int.self, forKey: .consistencyCount) ?? 0
        consistentCount = try container.decodeIfPresent(Int.self, forKey: .consistentCount) ?? 0
    }

    // The derived rates are written out too (for readers of the file), never read back.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(name, forKey: .name)
        try container.encode(failed, forKey: .failed)
        try container.encode(pairCount, forKey: .pairCount)
        try container.encode(pairCorrect, forKey: .pairCorrect)
        try container.encode(bonCount, forKey: .bonCount)
        try container.encode(bonPositionSum, forKey: .bonPositionSum)
        try container.encode(bonExact, forKey: .bonExact)
        try container.encode(consistencyCount, forKey: .consistencyCount)
        try container.encode(consistentCount, forKey: .consistentCount)
        try container.encodeIfPresent(pairAccuracy, forKey: .pairAccuracy)
        try container.encodeIfPresent(bonPositionAccuracy, forKey: .bonPositionAccuracy)
        try container.encodeIfPresent(bonExactAccuracy, forKey: .bonExactAccuracy)
        try container.encodeIfPresent(consistencyRate, forKey: .consistencyRate)
        try container.encodeIfPresent(overall, forKey: .overall)
    }
}

/// The JSON summary file: totals, per task, per length bucket (buckets in length order).
public struct BenchSummary: Sendable, Equatable, Codable {
    /// Series name on charts: the method and model unless given.
    public var label: String
    public var method: String?
    public var model: String?
    public var items: Int
    public var badLines: Int
    public var total: GroupStats
    public var byTask: [GroupStats]
    public var byLength: [GroupStats]
    /// The paper's finer rows: PairWise by subtype (same/diff) and BestOfN by candidate count (2/3/4).
    public var bySubtype: [GroupStats]

    enum CodingKeys: String, CodingKey {
        case label, method, model, items, total
        case badLines = "bad_lines"
        case byTask = "by_task"
        case byLength = "by_length"
        case bySubtype = "by_subtype"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        label = try container.decodeIfPresent(String.self, forKey: .label) ?? ""
        method = try container.decodeIfPresent(String.self, forKey: .method)
        model = try container.decodeIfPresent(String.self, forKey: .model)
        items = try container.decodeIfPresent(Int.self, forKey: .items) ?? 0
        badLines = try container.decodeIfPresent(Int.self, forKey: .badLines) ?? 0
        total = try container.decodeIfPresent(GroupStats.self, forKey: .total) ?? GroupStats(name: "all")
        byTask = try container.decodeIfPresent([GroupStats].self, forKey: .byTask) ?? []
        byLength = try container.decodeIfPresent([GroupStats].self, forKey: .byLength) ?? []
        bySubtype = try container.decodeIfPresent([GroupStats].self, forKey: .bySubtype) ?? []
    }

    public init(results: [ItemResult], badLines: Int = 0, label: String? = nil) {
        var total = GroupStats(name: "all")
        var tasks: [String: GroupStats] = [:]
        var lengths: [String: GroupStats] = [:]
        var subtypes: [String: GroupStats] = [:]
        for result in results {
            total.add(result)
            if let subtype = result.subtype {
                let name = "\(result.taskType.rawValue)/\(subtype)"
                subtypes[name, default: GroupStats(name: name)].add(result)
            }
            tasks[result.task, default: GroupStats(name: result.task)].add(result)
            lengths[result.lengthBucket, default: GroupStats(name: result.lengthBucket)].add(result)
        }
        // "likelihood/lift": the normalisation is part of what was measured.
        let method = Self.common(
            results.compactMap { result in
                result.method.map { method in result.normalize.map { "\(method)/\($0)" } ?? method }
            })
        let model = Self.common(results.compactMap(\.model))
        self.method = method
        self.model = model
        self.label = label ?? [method, model].compactMap { $0 }.joined(separator: " · ")
        self.items = results.count
        self.badLines = badLines
        self.total = total
        let taskOrder = knownTasks.filter { tasks[$0] != nil } + tasks.keys.filter { !knownTasks.contains($0) }.sorted()
        self.byTask = taskOrder.compactMap { tasks[$0] }
        self.byLength = LengthBucket.ordered(lengths.keys).compactMap { lengths[$0] }
        self.bySubtype = subtypes.keys.sorted().compactMap { subtypes[$0] }
    }

    /// The value all agree on, or a "+"-joined list when a results file mixes several.
    private static func common(_ values: [String]) -> String? {
        var seen: [String] = []
        for value in values where !seen.contains(value) { seen.append(value) }
        return seen.isEmpty ? nil : seen.joined(separator: "+")
    }
}
