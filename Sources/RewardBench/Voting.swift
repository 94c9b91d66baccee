/// Consistency majority voting over judge answers: pure, no I/O.
public struct VoteTally: Sendable, Equatable {
    public var forChosen = 0
    public var forRejected = 0

    public init(forChosen: Int = 0, forRejected: Int = 0) {
        self.forChosen = forChosen
        self.forRejected = forRejected
    }

    public var total: Int { forChosen + forRejected }

    /// Share of votes for the majority answer (0 when there are no votes).
    public var agreement: Double {
        total == 0 ? 0 : Double(max(forChosen, forRejected)) / Double(total)
    }

    /// `preferredOriginal`: 0 when the judge picked the record's chosen response, 1 for rejected.
    public mutating func add(preferredOriginal: Int) {
        if preferredOriginal == 0 { forChosen += 1 } else { forRejected += 1 }
    }
}

public enum VoteDecision: String, Sendable, Equatable, Codable {
    /// The judges agree with the label.
    case keep
    /// The judges agree against the label: keep the record with chosen and rejected swapped.
    case flip
    /// Too little agreement (or no votes, or a tie): leave the record out.
    case drop
}

public enum Voting {
    public static func decide(_ tally: VoteTally, threshold: Double) -> VoteDecision {
        guard tally.total > 0, tally.forChosen != tally.forRejected, tally.agreement >= threshold else {
            return .drop
        }
        return tally.forChosen > tally.forRejected ? .keep : .flip
    }

    /// The record as written out: swapped when flipped, with the vote recorded; nil when dropped.
    public static func apply(_ decision: VoteDecision, tally: VoteTally, to record: JSONValue) -> JSONValue? {
        guard case .object(var fields) = record, decision != .drop else { return nil }
        if decision == .flip {
            let chosen = fields["chosen"]
            fields["chosen"] = fields["rejected"]
            fields["rejected"] = chosen
            if fields["chosen_model"] != nil || fields["rejected_model"] != nil {
                let model = fields["chosen_model"]
                fields["chosen_model"] = fields["rejected_model"]
                fields["rejected_model"] = model
            }
        }
        fields["vote"] = .object([
            "agreement": .number((tally.agreement * 1000).rounded() / 1000),
            "votes": .number(Double(tally.total)),
            "for_original_chosen": .number(Double(tally.forChosen)),
            "flipped": .bool(decision == .flip),
        ])
        return .object(fields)
    }

    /// Presentation orders to ask: both orders per sample with `bothOrders`, else one seeded order each.
    public static func plan(key: String, samples: Int, bothOrders: Bool, seed: UInt64) -> [Presentation] {
        var orders: [Presentation] = []
        for sample in 0..<max(1, samples) {
            if bothOrders {
                orders += [Presentation(order: [0, 1]), Presentation(order: [1, 0])]
            } else {
                orders.append(Presentation(count: 2, seed: seed &+ UInt64(sample), key: key))
            }
        }
        return orders
    }
}

public struct VoteCounts: Sendable, Equatable {
    public var kept = 0
    public var flipped = 0
    public var dropped = 0
    /// Records that are not PairWise: voting needs a chosen/rejected pair.
    public var skipped = 0
    /// Queries that got no usable answer (not counted as votes).
    public var failedQueries = 0

    public init() {}

    public mutating func count(_ decision: VoteDecision) {
        switch decision {
        case .keep: kept += 1
        case .flip: flipped += 1
        case .drop: dropped += 1
        }
    }
}
