import Foundation
import HTTPParser

/// What the server knows about one finished request: handed to `ServerConfiguration.observers` (metrics, access
/// log) after the response was written, or given up on. Never holds the request body or its headers.
public struct RequestRecord: Sendable {
    public enum Outcome: String, Sendable {
        /// The response was written.
        case responded
        /// Writing the response failed (peer gone or too slow).
        case writeFailed = "write_failed"
        /// The client left before the response; the handler was cancelled (logged as status 499).
        case clientGone = "client_gone"
        /// The drain timeout cancelled the request; nothing was written (logged as status 503).
        case cancelled
    }

    /// Empty for a message the server refused before it had a request (parse errors, header timeouts,
    /// over-cap connections): `method` and `path` are then "-".
    public var method: String
    /// The path without the query string (a query may carry things that must not reach logs).
    public var path: String
    public var status: Int
    public var outcome: Outcome
    public var requestBodyBytes: Int
    /// Body bytes written (0 for HEAD and for responses never written).
    public var responseBodyBytes: Int
    public var requestID: String?
    public var remoteAddress: String?
    /// From the complete request to the end of the response write.
    public var duration: Duration
    /// Engine queue and compute time, from the handler's `Server-Timing` header (scoring routes).
    public var queueSeconds: Double?
    public var computeSeconds: Double?
    /// The `X-Context-Key` the handler returned (affinity debugging).
    public var contextKey: String?

    public init(method: String, path: String, status: Int, outcome: Outcome = .responded, requestBodyBytes: Int = 0,
                responseBodyBytes: Int = 0, requestID: String? = nil, remoteAddress: String? = nil,
                duration: Duration = .zero, responseHeaders: HTTPHeaders = HTTPHeaders()) {
        self.method = method; self.path = path; self.status = status; self.outcome = outcome
        self.requestBodyBytes = requestBodyBytes; self.responseBodyBytes = responseBodyBytes
        self.requestID = requestID; self.remoteAddress = remoteAddress; self.duration = duration
        if let timing = responseHeaders[ServerTiming.headerName] {
            let parsed = ServerTiming.parse(timing)
            queueSeconds = parsed["queue"].map { $0 / 1000 }
            computeSeconds = parsed["compute"].map { $0 / 1000 }
        }
        contextKey = responseHeaders["X-Context-Key"]
    }

    var durationSeconds: Double {
        let (s, atto) = duration.components
        return Double(s) + Double(atto) / 1e18
    }
}

/// Receives every finished request. Called on the connection's task right after the write: keep it cheap
/// and non-blocking.
public protocol RequestObserver: Sendable {
    func requestFinished(_ record: RequestRecord)
}

/// `Server-Timing: queue;dur=1.2, compute;dur=340.5` (W3C Server Timing, milliseconds): how handlers report
/// engine time to clients, the access log and the metrics without a side channel.
public enum ServerTiming {
    public static let headerName = "Server-Timing"

    public static func header(queueMs: Double, computeMs: Double) -> (name: String, value: String) {
        (headerName, "queue;dur=\(format(queueMs)), compute;dur=\(format(computeMs))")
    }

    /// Metric name → duration in milliseconds; entries without `dur` are skipped.
    public static func parse(_ value: String) -> [String: Double] {
        var out: [String: Double] = [:]
        for entry in value.split(separator: ",") {
            let parts = entry.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
            guard let name = parts.first, !name.isEmpty else { continue }
            for parameter in parts.dropFirst() where parameter.hasPrefix("dur=") {
                if let ms = Double(parameter.dropFirst(4)), ms.isFinite, ms >= 0 { out[name] = ms }
            }
        }
        return out
    }

    private static func format(_ ms: Double) -> String {
        guard ms.isFinite, ms >= 0 else { return "0" }
        let thousandths = Int((ms * 1000).rounded())
        let frac = String(thousandths % 1000)
        return "\(thousandths / 1000).\(String(repeating: "0", count: 3 - frac.count))\(frac)"
    }
}
