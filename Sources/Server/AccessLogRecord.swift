import Foundation
import HTTPParser

/// What the server knows about one finished request: handed to `ServerConfiguration.observer` (metrics, access
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
    /// Engine queue and compute time and the context key, as the handler reported them (scoring routes).
    public var work: WorkReport.Values

    public var queueSeconds: Double? { work.queueSeconds }
    public var computeSeconds: Double? { work.computeSeconds }
    public var contextKey: String? { work.contextKey }

    public init(
        method: String, path: String, status: Int, outcome: Outcome = .responded, requestBodyBytes: Int = 0,
        responseBodyBytes: Int = 0, requestID: String? = nil, remoteAddress: String? = nil,
        duration: Duration = .zero, work: WorkReport.Values = WorkReport.Values()
    ) {
        self.method = method; self.path = path; self.status = status; self.outcome = outcome
        self.requestBodyBytes = requestBodyBytes; self.responseBodyBytes = responseBodyBytes
        self.requestID = requestID; self.remoteAddress = remoteAddress; self.duration = duration
        self.work = work
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

/// `Server-Timing: queue;dur=1.2, compute;dur=340.5` (W3C Server Timing, milliseconds): engine time for
/// clients. The access log and the metrics get the same figures as values (`WorkReport`).
public enum ServerTiming {
    public static let headerName = "Server-Timing"

    public static func header(queueMs: Double, computeMs: Double) -> (name: String, value: String) {
        (headerName, "queue;dur=\(format(queueMs)), compute;dur=\(format(computeMs))")
    }

    private static func format(_ ms: Double) -> String {
        guard ms.isFinite, ms >= 0 else { return "0" }
        let thousandths = Int((ms * 1000).rounded())
        let frac = String(thousandths % 1000)
        return "\(thousandths / 1000).\(String(repeating: "0", count: 3 - frac.count))\(frac)"
    }
}
