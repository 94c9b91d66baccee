// INTERFACE CONTRACT (implementation in progress by the parser work): the server codes against exactly this.

/// What the parser hands out, in order.
public enum HTTPParserEvent: Sendable, Equatable {
    /// The head of the current request is complete and it carries `Expect: 100-continue` with a body still
    /// to come: the server should write `HTTPResponse.continueInterim` now.
    case continueExpected
    /// One complete request.
    case request(HTTPRequest)
}

/// Incremental HTTP/1.1 request parser: feed bytes as they arrive, pull events. Bytes after a complete request
/// are kept for the next one (pipelining). After an error the parser stays failed.
public struct HTTPRequestParser: Sendable {
    public enum Phase: Sendable, Equatable { case idle, head, body }

    public let limits: HTTPLimits
    public init(limits: HTTPLimits = HTTPLimits()) { self.limits = limits }

    /// `.idle`: no bytes of a next request buffered; `.head`: inside request line / headers; `.body`: reading a body.
    public var phase: Phase { .idle }

    public mutating func feed<C: Collection>(_ bytes: C) where C.Element == UInt8 { fatalError("not yet") }

    /// The next event, nil when more bytes are needed. Throws the first error, and again on every later call.
    public mutating func next() throws(HTTPParseError) -> HTTPParserEvent? { fatalError("not yet") }
}
