import Foundation

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// One HTTP exchange. Separate from the client so retry and error mapping are tested with a fake.
public protocol HTTPTransport: Sendable {
    /// POSTs a JSON body; returns the status, the Retry-After header if any, and the body.
    func post(path: String, body: Data) async throws -> (status: Int, retryAfter: String?, body: Data)
}

/// A failure to get any answer (connection refused, reset, timeout): worth retrying.
public struct TransportFailure: Error, Sendable {
    public var message: String
    public init(_ message: String) { self.message = message }
}

public struct URLSessionTransport: HTTPTransport {
    public let baseURL: URL
    /// Seconds the connection may stay silent: a 128K context can take minutes before the first byte.
    public let timeout: Double
    private let session: URLSession

    public init(baseURL: URL, timeout: Double) {
        self.baseURL = baseURL
        self.timeout = timeout
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = timeout
        configuration.timeoutIntervalForResource = timeout
        configuration.httpMaximumConnectionsPerHost = 64
        session = URLSession(configuration: configuration)
    }

    public func post(path: String, body: Data) async throws -> (status: Int, retryAfter: String?, body: Data) {
        var request = URLRequest(url: baseURL.appendingPathComponent(path))
        request.httpMethod = "POST"
        request.httpBody = body
        request.timeoutInterval = timeout
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        let data: Data
        let response: URLResponse
        do {
            (data, response) = try await session.data(for: request)
        } catch {
            throw TransportFailure(error.localizedDescription)
        }
        guard let http = response as? HTTPURLResponse else { throw TransportFailure("not an HTTP response") }
        return (http.statusCode, http.value(forHTTPHeaderField: "Retry-After"), data)
    }
}

/// The scoring client: JSON in and out, retries per `RetryPolicy`.
public struct HTTPRewardClient: RewardClient {
    public let transport: any HTTPTransport
    public let retry: RetryPolicy
    /// How to wait between tries; tests pass one that does not sleep.
    public let sleep: @Sendable (Double) async throws -> Void

    public init(
        transport: any HTTPTransport, retry: RetryPolicy = RetryPolicy(),
        sleep: @escaping @Sendable (Double) async throws -> Void = { seconds in
            try await Task.sleep(nanoseconds: UInt64(seconds * 1e9))
        }
    ) {
        self.transport = transport
        self.retry = retry
        self.sleep = sleep
    }

    /// Plain http:// goes over `SocketTransport` (no busy polling while a long request runs); https:// over
    /// URLSession.
    public init(url: URL, timeout: Double, retry: RetryPolicy = RetryPolicy()) {
        let transport: any HTTPTransport =
            (try? SocketTransport(baseURL: url, timeout: timeout))
            ?? URLSessionTransport(baseURL: url, timeout: timeout)
        self.init(transport: transport, retry: retry)
    }

    public func pairwise(_ request: ScoreRequest) async throws -> PairwiseReply {
        let reply: PairwiseReply = try await call(path: "v1/pairwise", request: request)
        guard reply.rewards.count == 2, (0...1).contains(reply.preferred) else {
            throw ClientError.badReply("pairwise reply needs 2 rewards and preferred 0 or 1")
        }
        return reply
    }

    public func bestOfN(_ request: ScoreRequest) async throws -> BestOfNReply {
        let reply: BestOfNReply = try await call(path: "v1/best-of-n", request: request)
        let count = request.responses.count
        guard reply.rewards.count == count, reply.ranking.sorted() == Array(0..<count) else {
            throw ClientError.badReply("best-of-n reply needs \(count) rewards and a ranking of 0..<\(count)")
        }
        return reply
    }

    func call<Reply: Decodable>(path: String, request: ScoreRequest) async throws -> Reply {
        let body = try JSONEncoder().encode(request)
        var attempt = 0
        while true {
            attempt += 1
            var failure: ClientError
            var retryAfter: Double?
            do {
                let (status, retryAfterText, data) = try await transport.post(path: path, body: body)
                if (200..<300).contains(status) {
                    do {
                        return try JSONDecoder().decode(Reply.self, from: data)
                    } catch {
                        throw ClientError.badReply(JSONLines.describe(error))
                    }
                }
                failure = Self.httpError(status: status, body: data)
                guard RetryPolicy.isRetryable(status: status) else { throw failure }
                retryAfter = RetryPolicy.parseRetryAfter(retryAfterText)
            } catch let error as TransportFailure {
                failure = .transport(error.message)
            }
            guard let wait = retry.delay(afterAttempt: attempt, retryAfter: retryAfter) else { throw failure }
            try await sleep(wait)
        }
    }

    static func httpError(status: Int, body: Data) -> ClientError {
        if let reply = try? JSONDecoder().decode(ErrorReply.self, from: body) {
            return .http(status: status, type: reply.error.type, message: reply.error.message ?? "")
        }
        let text = String(decoding: body.prefix(300), as: UTF8.self)
        return .http(status: status, type: nil, message: text)
    }
}
