/// What the bench and vote runners need from a scoring server; tests pass an in-memory fake.
public protocol RewardClient: Sendable {
    func pairwise(_ request: ScoreRequest) async throws -> PairwiseReply
    func bestOfN(_ request: ScoreRequest) async throws -> BestOfNReply
}

public enum ClientError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The server answered with an error status (after any retries).
    case http(status: Int, type: String?, message: String)
    /// No answer: connection refused, reset, timed out (after any retries).
    case transport(String)
    /// A 2xx answer that is not the documented shape.
    case badReply(String)

    public var description: String {
        switch self {
        case .http(let status, let type, let message):
            return "HTTP \(status)\(type.map { " \($0)" } ?? ""): \(message)"
        case .transport(let message): return "connection: \(message)"
        case .badReply(let message): return "bad reply: \(message)"
        }
    }
}
