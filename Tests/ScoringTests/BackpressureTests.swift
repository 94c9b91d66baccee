import Foundation
import Scoring
import Testing

/// Overload, deadlines and cancellation: every request ends with a result or a typed error, none is lost,
/// and the engine keeps serving afterwards. No timing assertions: outcomes only.
@Suite(.serialized) struct BackpressureTests {
    static let scorer = Task { () throws -> Scorer in
        guard FileManager.default.fileExists(atPath: TestModel.path) else {
            Issue.record("model missing at \(TestModel.path): run `make setup` first")
            throw ScoringError.modelLoadFailed("missing model")
        }
        return try await Scorer.load(
            modelPath: TestModel.path, configuration: TestModel.small,
            queueLimits: EnginePool.QueueLimits(maxQueuedRequests: 1, maxQueuedTokens: 100_000))
    }

    static func request(_ seed: UInt64) -> ScoringRequest {
        var generator = GroundingCases(seed: seed)
        let cases = generator.contextWithCases(facts: 2, fillerSentences: 60)
        return ScoringRequest(
            input: .contextPrompt(context: cases[0].context, prompt: cases[0].question),
            responses: [cases[0].grounded, cases[0].wrong])
    }

    enum Outcome: Equatable {
        case ok, overloaded
        case other(String)
    }

    @Test func overloadIsRefusedNotQueuedWithoutEnd() async throws {
        let scorer = try await Self.scorer.value
        let outcomes = await withTaskGroup(of: Outcome.self) { group in
            for i in 0..<6 {
                group.addTask {
                    do {
                        _ = try await scorer.pairwise(Self.request(200 + UInt64(i)))
                        return .ok
                    } catch ScoringError.overloaded(let retryAfter) {
                        return retryAfter >= 1 ? .overloaded : .other("Retry-After \(retryAfter)")
                    } catch {
                        return .other("\(error)")
                    }
                }
            }
            return await group.reduce(into: [Outcome]()) { $0.append($1) }
        }
        #expect(outcomes.count == 6)
        #expect(outcomes.contains(.ok))
        #expect(outcomes.contains(.overloaded), "a queue of one cannot hold six concurrent requests")
        #expect(outcomes.allSatisfy { $0 == .ok || $0 == .overloaded }, "\(outcomes)")
        #expect(scorer.queue.queuedRequests == 0)
    }

    @Test func deadlineEndsARunningPrefillWithTimedOut() async throws {
        let scorer = try await Self.scorer.value
        await #expect(throws: ScoringError.timedOut) {
            _ = try await scorer.pairwise(Self.request(300), deadline: .now + .milliseconds(1))
        }
        // The engine is not disturbed: the same request without a deadline succeeds.
        let result = try await scorer.pairwise(Self.request(300))
        #expect(result.result.rewards.count == 2)
    }

    @Test func cancellingTheCallerCancelsTheJob() async throws {
        let scorer = try await Self.scorer.value
        let task = Task { try await scorer.pairwise(Self.request(400)) }
        task.cancel()
        await #expect(throws: ScoringError.cancelled) { _ = try await task.value }
        let result = try await scorer.pairwise(Self.request(401))
        #expect(result.result.rewards.count == 2)
        #expect(scorer.queue.runningJobs == 0)
    }
}
