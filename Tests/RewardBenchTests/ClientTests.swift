import Foundation
import Synchronization
import Testing

@testable import RewardBench

/// Plays back canned answers and records what was posted.
final class ScriptedTransport: HTTPTransport {
    enum Step: Sendable {
        case answer(Int, String?, String)
        case drop
    }

    let steps: Mutex<[Step]>
    let posted = Mutex<[(String, Data)]>([])

    init(_ steps: [Step]) {
        self.steps = Mutex(steps)
    }

    func post(path: String, body: Data) async throws -> (status: Int, retryAfter: String?, body: Data) {
        posted.withLock { $0.append((path, body)) }
        let step = steps.withLock { $0.isEmpty ? Step.drop : $0.removeFirst() }
        switch step {
        case .answer(let status, let retryAfter, let body): return (status, retryAfter, Data(body.utf8))
        case .drop: throw TransportFailure("connection refused")
        }
    }
}

final class SleepLog: Sendable {
    let waits = Mutex<[Double]>([])
    var sleep: @Sendable (Double) async throws -> Void {
        { seconds in self.waits.withLock { $0.append(seconds) } }
    }
}

@Suite struct ClientTests {
    let pairwiseBody =
        #"{"rewards":[-1.5,-2.0],"preferred":0,"probability":0.62,"margin":0.5,"consistent":null,"method":"likelihood","model":"gemma","usage":{},"timings":{}}"#
    let request = ScoreRequest(
        messages: [ChatMessage(role: "user", content: "c")], responses: ["a", "b"], method: "judge")

    @Test func retriesBusyAnswersHonouringRetryAfter() async throws {
        let transport = ScriptedTransport([
            .answer(503, "2", #"{"error":{"type":"overloaded","message":"busy"}}"#),
            .drop,
            .answer(429, nil, #"{"error":{"type":"rate_limited","message":"slow down"}}"#),
            .answer(200, nil, pairwiseBody),
        ])
        let log = SleepLog()
        let client = HTTPRewardClient(
            transport: transport, retry: RetryPolicy(maxAttempts: 5, baseDelay: 0.5), sleep: log.sleep)
        let reply = try await client.pairwise(request)
        #expect(reply.preferred == 0)
        #expect(reply.probability == 0.62)
        #expect(reply.consistent == nil)
        #expect(reply.model == "gemma")
        #expect(log.waits.withLock { $0 } == [2, 1, 2])
        let posted = transport.posted.withLock { $0 }
        #expect(posted.count == 4)
        #expect(posted.allSatisfy { $0.0 == "v1/pairwise" })
        let body = try JSONDecoder().decode(JSONValue.self, from: posted[0].1)
        #expect(body["method"]?.stringValue == "judge")
        #expect(body["responses"] == .array([.string("a"), .string("b")]))
        #expect(body["truncation"] == nil)
        #expect(body["normalize"] == nil)
    }

    @Test func clientErrorsAreNotRetried() async throws {
        let transport = ScriptedTransport([
            .answer(400, nil, #"{"error":{"type":"context_too_long","message":"9000 tokens > 8192"}}"#),
            .answer(200, nil, pairwiseBody),
        ])
        let log = SleepLog()
        let client = HTTPRewardClient(transport: transport, sleep: log.sleep)
        await #expect(throws: ClientError.http(status: 400, type: "context_too_long", message: "9000 tokens > 8192")) {
            try await client.pairwise(request)
        }
        #expect(transport.posted.withLock { $0.count } == 1)
        #expect(log.waits.withLock { $0 }.isEmpty)
    }

    @Test func givesUpAfterMaxAttempts() async throws {
        let transport = ScriptedTransport([])
        let log = SleepLog()
        let client = HTTPRewardClient(
            transport: transport, retry: RetryPolicy(maxAttempts: 3, baseDelay: 1), sleep: log.sleep)
        await #expect(throws: ClientError.transport("connection refused")) { try await client.pairwise(request) }
        #expect(transport.posted.withLock { $0.count } == 3)
        #expect(log.waits.withLock { $0 } == [1, 2])
    }

    @Test func malformedRepliesAreReported() async throws {
        let transport = ScriptedTransport([.answer(200, nil, #"{"rewards":[1],"preferred":0}"#)])
        let client = HTTPRewardClient(transport: transport, sleep: SleepLog().sleep)
        await #expect(throws: ClientError.self) { try await client.pairwise(request) }
        let bon = ScriptedTransport([.answer(200, nil, #"{"rewards":[1,2,3],"ranking":[0,0,1],"best":0}"#)])
        let bonClient = HTTPRewardClient(transport: bon, sleep: SleepLog().sleep)
        let three = ScoreRequest(messages: [], responses: ["a", "b", "c"])
        await #expect(throws: ClientError.self) { try await bonClient.bestOfN(three) }
    }

    @Test func bestOfNUsesItsEndpoint() async throws {
        let transport = ScriptedTransport([
            .answer(
                200, nil, #"{"rewards":[0.1,0.7,0.3],"ranking":[1,2,0],"best":1,"method":"classifier","model":"m"}"#)
        ])
        let client = HTTPRewardClient(transport: transport, sleep: SleepLog().sleep)
        let reply = try await client.bestOfN(ScoreRequest(messages: [], responses: ["a", "b", "c"]))
        #expect(reply.ranking == [1, 2, 0])
        #expect(transport.posted.withLock { $0.map(\.0) } == ["v1/best-of-n"])
    }

    @Test func retryPolicySchedule() {
        let policy = RetryPolicy(maxAttempts: 4, baseDelay: 0.5, maxDelay: 3)
        #expect(policy.delay(afterAttempt: 1, retryAfter: nil) == 0.5)
        #expect(policy.delay(afterAttempt: 2, retryAfter: nil) == 1)
        #expect(policy.delay(afterAttempt: 3, retryAfter: nil) == 2)
        #expect(policy.delay(afterAttempt: 4, retryAfter: nil) == nil)
        #expect(policy.delay(afterAttempt: 1, retryAfter: 10) == 3)
        #expect(RetryPolicy.isRetryable(status: 503))
        #expect(RetryPolicy.isRetryable(status: 429))
        #expect(!RetryPolicy.isRetryable(status: 400))
        #expect(!RetryPolicy.isRetryable(status: 413))
        #expect(RetryPolicy.parseRetryAfter(" 7 ") == 7)
        #expect(RetryPolicy.parseRetryAfter("Wed, 21 Oct 2015 07:28:00 GMT") == nil)
    }
}
