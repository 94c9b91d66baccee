/// Fact-in-filler records with no input files: several facts of one kind in generated prose, a question
/// about one, chosen = the true statement, rejected = the same statement with a wrong value (even items: a
/// random value; odd items: another fact's value from the same context, the harder case).
public struct GroundingSuite {
    public var seed: UInt64
    public var factsPerContext: Int

    public init(seed: UInt64, factsPerContext: Int = 5) {
        self.seed = seed
        self.factsPerContext = max(2, factsPerContext)
    }

    struct FactKind: Sendable {
        var statement: @Sendable (String, String) -> String
        var question: @Sendable (String) -> String
        var name: @Sendable (inout SeededRandom) -> String
        var digits: Int
    }

    static let kinds: [FactKind] = [
        FactKind(
            statement: { "The access code for locker \($0) is \($1)." },
            question: { "What is the access code for locker \($0)?" },
            name: { "\(10 + $0.int(below: 90))" }, digits: 4),
        FactKind(
            statement: { "The room number reserved for \($0) is \($1)." },
            question: { "What is the room number reserved for \($0)?" },
            name: { "\($0.pick(firstNames)) \($0.pick(lastNames))" }, digits: 3),
        FactKind(
            statement: { "The tracking number of parcel \($0) is \($1)." },
            question: { "What is the tracking number of parcel \($0)?" },
            name: { "\($0.pick(["A", "B", "C", "D", "E", "F", "G", "H", "K", "M"]))-\(100 + $0.int(below: 900))" },
            digits: 6),
    ]

    static let firstNames = ["Ada", "Bruno", "Clara", "Dmitri", "Elena", "Farid", "Greta", "Hugo", "Ines", "Jonas"]
    static let lastNames = ["Moreau", "Okafor", "Lindqvist", "Tanaka", "Novak", "Haddad", "Brennan", "Costa"]

    static func value(digits: Int, _ generator: inout SeededRandom) -> String {
        var lower = 1
        for _ in 1..<digits { lower *= 10 }
        return String(lower + generator.int(below: lower * 9))
    }

    /// The short record for item `index`: its facts and question; depth and filler are the synthesizer's.
    public func shortRecord(index: Int, lengthLabel: String) -> ShortRecord {
        var generator = SeededRandom(seed: seed, key: "grounding|\(lengthLabel)|\(index)")
        let kind = Self.kinds[generator.int(below: Self.kinds.count)]
        var names: [String] = []
        var values: [String] = []
        while names.count < factsPerContext {
            let name = kind.name(&generator)
            let value = Self.value(digits: kind.digits, &generator)
            if names.contains(name) || values.contains(value) { continue }
            names.append(name)
            values.append(value)
        }
        let target = generator.int(below: names.count)
        let confusable = index % 2 == 1
        var wrong: String
        if confusable {
            wrong = values[(target + 1 + generator.int(below: names.count - 1)) % names.count]
        } else {
            repeat { wrong = Self.value(digits: kind.digits, &generator) } while values.contains(wrong)
        }
        let distractors = names.indices.filter { $0 != target }.map { kind.statement(names[$0], values[$0]) }
        return ShortRecord(
            id: "grounding-\(index)", task: "Grounding", prompt: kind.question(names[target]),
            evidence: kind.statement(names[target], values[target]),
            chosen: kind.statement(names[target], values[target]), rejected: kind.statement(names[target], wrong),
            distractors: distractors, subtype: confusable ? "confusable" : "random")
    }
}
