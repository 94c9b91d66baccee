import Logging

/// One info line per request ("request" with method, path, status, bytes, durations, request id, peer) on
/// its own logger label, so operators can filter or silence it. Bodies, headers and query strings are
/// never logged: only the fields of `RequestRecord`.
///
/// Successful probes (`/health`, `/ready`, `/metrics`) are logged at debug level: Kubernetes and Prometheus
/// call them all day, and at load-balancer rates their lines cost more than answering them (llama-server
/// does not log them at all). A failing probe is a normal info line.
public struct AccessLog: RequestObserver {
    private let logger: Logger
    static let probePaths: Set<String> = ["/health", "/ready", "/metrics"]

    public init(logger: Logger = Logger(label: "longrm.access")) { self.logger = logger }

    public func requestFinished(_ record: RequestRecord) {
        let isProbe = record.status < 400 && Self.probePaths.contains(record.path)
        let level: Logger.Level = isProbe ? .debug : .info
        guard logger.logLevel <= level else { return }
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
        logger.log(level: level, "request", metadata: fields)
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
