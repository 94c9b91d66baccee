import Logging

/// One info line per request ("request" with method, path, status, bytes, durations, request id, peer) on
/// its own logger label, so operators can filter or silence it. Bodies, headers and query strings are
/// never logged: only the fields of `RequestRecord`.
public struct AccessLog: RequestObserver {
    private let logger: Logger

    public init(logger: Logger = Logger(label: "longrm.access")) { self.logger = logger }

    public func requestFinished(_ record: RequestRecord) {
        guard logger.logLevel <= .info else { return }
        var fields: Logger.Metadata = [
            "method": .string(record.method),
            "path": .string(String(record.path.prefix(256))),
            "status": .stringConvertible(record.status),
            "bytes": .stringConvertible(record.responseBodyBytes),
            "req_bytes": .stringConvertible(record.requestBodyBytes),
            "duration_ms": .stringConvertible(Self.milliseconds(record.durationSeconds)),
            "request_id": .string(record.requestID ?? "-"),
            "remote": .string(record.remoteAddress ?? "-"),
        ]
        if let q = record.queueSeconds { fields["queue_ms"] = .stringConvertible(Self.milliseconds(q)) }
        if let c = record.computeSeconds { fields["compute_ms"] = .stringConvertible(Self.milliseconds(c)) }
        if let key = record.contextKey { fields["context_key"] = .string(key) }
        if record.outcome != .responded { fields["outcome"] = .string(record.outcome.rawValue) }
        logger.info("request", metadata: fields)
    }

    /// Milliseconds rounded to microseconds: short in the log, still precise.
    static func milliseconds(_ seconds: Double) -> Double { (seconds * 1_000_000).rounded() / 1000 }
}

/// Hands each record to several observers (metrics and access log).
public struct RequestObservers: RequestObserver {
    public let observers: [any RequestObserver]
    public init(_ observers: [any RequestObserver]) { self.observers = observers }
    public func requestFinished(_ record: RequestRecord) { for o in observers { o.requestFinished(record) } }
}
