import Dispatch
import Synchronization

/// What a handler knows about its request besides the request itself.
public struct RequestContext: Sendable {
    /// The incoming `X-Request-Id` when it is sane, otherwise a generated one; echoed in the response.
    public let requestID: String
    /// When the complete request had been read (monotonic clock: measure durations from it).
    public let receivedAt: ContinuousClock.Instant
    /// The peer as `address:port`, when known.
    public let remoteAddress: String?
    /// What the handler reports about its work for the access log and metrics.
    public let report: WorkReport

    public init(requestID: String, receivedAt: ContinuousClock.Instant = .now, remoteAddress: String? = nil) {
        self.requestID = requestID; self.receivedAt = receivedAt; self.remoteAddress = remoteAddress
        report = WorkReport()
    }
}

/// Engine time and the context key of one request, handed from its handler to the observers as values
/// (clients get the same figures in the body and the `Server-Timing` header).
public final class WorkReport: Sendable {
    public struct Values: Sendable, Equatable {
        public var queueSeconds: Double?
        public var computeSeconds: Double?
        public var contextKey: String?
        public init(queueSeconds: Double? = nil, computeSeconds: Double? = nil, contextKey: String? = nil) {
            self.queueSeconds = queueSeconds; self.computeSeconds = computeSeconds; self.contextKey = contextKey
        }
    }

    private let state = Mutex(Values())

    public init() {}

    public func record(queueMs: Double, computeMs: Double, contextKey: String? = nil) {
        state.withLock {
            $0 = Values(queueSeconds: queueMs / 1000, computeSeconds: computeMs / 1000, contextKey: contextKey)
        }
    }

    public var values: Values { state.withLock { $0 } }
}
