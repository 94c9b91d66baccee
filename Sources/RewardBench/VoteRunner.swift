/// Asks judge servers about each pair and tallies their answers; writing is the caller's job.
public struct VoteRunner: Sendable {
    public var clients: [any RewardClient]
    public var method: String?
    public var normalize: String?
    public var truncation: String?
    public var samples: Int
    public var bothOrders: Bool
    public var seed: UInt64

    public init(
        clients: [any RewardClient], method: String?, normalize: String? = nil, truncation: String? = nil,
        samples: Int, bothOrders: Bool, seed: UInt64
    ) {
        self.clients = clients
        self.method = method
        self.normalize = normalize
        self.truncation = truncation
        self.samples = samples
        self.bothOrders = bothOrders
        self.seed = seed
    }

    public struct Outcome: Sendable {
        public var tally: VoteTally
        public var failedQueries: Int
        public var errors: [String]
    }

    /// Every client × every planned order; a failed query is noted, not counted as a vote.
    public func tally(_ record: BenchRecord) async throws -> Outcome {
        var outcome = Outcome(tally: VoteTally(), failedQueries: 0, errors: [])
        for client in clients {
            for presentation in Voting.plan(key: record.key, samples: samples, bothOrders: bothOrders, seed: seed) {
                let request = ScoreRequest(
                    messages: record.messages, responses: presentation.present(record.responses), method: method,
                    normalize: normalize, truncation: truncation)
                do {
                    let reply = try await client.pairwise(request)
                    outcome.tally.add(preferredOriginal: presentation.original(reply.preferred))
                } catch is CancellationError {
                    throw CancellationError()
                } catch {
                    outcome.failedQueries += 1
                    outcome.errors.append("\(error)")
                }
            }
        }
        return outcome
    }
}
