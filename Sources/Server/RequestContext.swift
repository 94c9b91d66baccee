import Dispatch

/// What a handler knows about its request besides the request itself.
public struct RequestContext: Sendable {
    /// The incoming `X-Request-Id` when it is sane, otherwise a generated one; echoed in the response.
    public let requestID: String
    /// When the complete request had been read (monotonic clock: measure durations from it).
    public let receivedAt: ContinuousClock.Instant
    /// The peer as `address:port`, when known.
    public let remoteAddress: String?

    public init(requestID: String, receivedAt: ContinuousClock.Instant = .now, remoteAddress: String? = nil) {
        self.requestID = requestID; self.receivedAt = receivedAt; self.remoteAddress = remoteAddress
    }
}
