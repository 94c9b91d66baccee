import Testing

@testable import RewardBench

@Suite struct VotingTests {
    @Test func thresholdsDecideKeepFlipDrop() {
        #expect(Voting.decide(VoteTally(forChosen: 3, forRejected: 1), threshold: 0.75) == .keep)
        #expect(Voting.decide(VoteTally(forChosen: 1, forRejected: 3), threshold: 0.75) == .flip)
        #expect(Voting.decide(VoteTally(forChosen: 2, forRejected: 1), threshold: 0.75) == .drop)
        #expect(Voting.decide(VoteTally(forChosen: 2, forRejected: 1), threshold: 0.6) == .keep)
        #expect(Voting.decide(VoteTally(forChosen: 2, forRejected: 2), threshold: 0.5) == .drop)
        #expect(Voting.decide(VoteTally(), threshold: 0) == .drop)
        #expect(Voting.decide(VoteTally(forChosen: 4, forRejected: 0), threshold: 1) == .keep)
    }

    @Test func countsOverABatch() {
        let tallies = [(4, 0), (3, 1), (1, 3), (0, 4), (2, 2), (2, 1), (0, 0)]
        var counts = VoteCounts()
        for (chosen, rejected) in tallies {
            counts.count(Voting.decide(VoteTally(forChosen: chosen, forRejected: rejected), threshold: 0.75))
        }
        #expect(counts.kept == 2)
        #expect(counts.flipped == 2)
        #expect(counts.dropped == 3)
    }

    @Test func flippedRecordsSwapTheirLabels() throws {
        let record = JSONValue.object([
            "chosen": .string("A"), "rejected": .string("B"), "chosen_model": .string("m1"),
            "rejected_model": .string("m2"), "extra": .number(1),
        ])
        let flipped = try #require(Voting.apply(.flip, tally: VoteTally(forChosen: 1, forRejected: 3), to: record))
        #expect(flipped["chosen"]?.stringValue == "B")
        #expect(flipped["rejected"]?.stringValue == "A")
        #expect(flipped["chosen_model"]?.stringValue == "m2")
        #expect(flipped["extra"]?.doubleValue == 1)
        #expect(flipped["vote"]?["agreement"]?.doubleValue == 0.75)
        #expect(flipped["vote"]?["flipped"] == .bool(true))
        let kept = try #require(Voting.apply(.keep, tally: VoteTally(forChosen: 4), to: record))
        #expect(kept["chosen"]?.stringValue == "A")
        #expect(Voting.apply(.drop, tally: VoteTally(), to: record) == nil)
    }

    @Test func planAsksBothOrdersPerSample() {
        let both = Voting.plan(key: "k", samples: 3, bothOrders: true, seed: 1)
        #expect(both.count == 6)
        #expect(both.filter { $0.order == [1, 0] }.count == 3)
        let single = Voting.plan(key: "k", samples: 40, bothOrders: false, seed: 1)
        #expect(single.count == 40)
        #expect(Set(single.map(\.order)).count == 2)
    }

    @Test func runnerTalliesAcrossServersAndOrders() async throws {
        let loaded = records([
            benchLine(id: 1, chosen: "a long and grounded answer", rejected: "short"),
            benchLine(id: 2, chosen: "tiny", rejected: "a much longer answer that wins"),
        ])
        // Server one prefers longer answers, server two prefers whatever is shown first (position bias).
        let longer = FakeClient(method: "judge")
        let firstShown = FakeClient(method: "judge", score: { $0.isEmpty ? 0 : 1 })
        let runner = VoteRunner(clients: [longer, firstShown], method: "judge", samples: 2, bothOrders: true, seed: 1)
        let one = try await runner.tally(loaded.records[0])
        #expect(one.tally == VoteTally(forChosen: 6, forRejected: 2))
        #expect(Voting.decide(one.tally, threshold: 0.75) == .keep)
        let two = try await runner.tally(loaded.records[1])
        #expect(two.tally == VoteTally(forChosen: 2, forRejected: 6))
        #expect(Voting.decide(two.tally, threshold: 0.75) == .flip)
        #expect(longer.sent.count == 8)
        #expect(longer.sent.allSatisfy { $0.method == "judge" })

        let failing = FakeClient(method: "judge", failWhen: { _ in true })
        let broken = try await VoteRunner(clients: [failing], method: nil, samples: 1, bothOrders: true, seed: 1)
            .tally(loaded.records[0])
        #expect(broken.failedQueries == 2)
        #expect(Voting.decide(broken.tally, threshold: 0.5) == .drop)
    }
}
