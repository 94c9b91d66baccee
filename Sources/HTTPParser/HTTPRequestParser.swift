/// What the parser hands out, in order.
public enum HTTPParserEvent: Sendable, Equatable {
    /// The head of the current request is complete and it carries `Expect: 100-continue` with a body still
    /// to come: the server should write `HTTPResponse.continueInterim` now.
    ///
    /// Emitted for every HTTP/1.1 request that has `Expect: 100-continue` and a non-empty body framing
    /// (Content-Length > 0 or chunked), whether or not body bytes are already buffered: the event sequence
    /// depends only on the bytes, never on how they were split into reads. Sending 100 when the client has
    /// already started the body is allowed (RFC 9110 §10.1.1). HTTP/1.0 expectations are ignored.
    case continueExpected
    /// One complete request.
    case request(HTTPRequest)
}

/// Incremental HTTP/1.1 request parser: feed bytes as they arrive, pull events. Bytes after a complete request
/// are kept for the next one (pipelining). After an error the parser stays failed.
///
/// Strict RFC 9112. Decisions a caller should know:
/// - A request without Content-Length and Transfer-Encoding has no body (RFC 9112 §6.3 rule 7), so the parser
///   never raises `.lengthRequired` (411); a route that insists on a declared length can check
///   `HTTPRequest.declaresBodyLength` and answer 411 itself.
/// - After a request that does not keep the connection alive (`keepAlive == false`: `Connection: close`,
///   HTTP/1.0 without keep-alive, CONNECT) the parser is closed: empty lines are ignored, any other byte makes
///   `next()` throw. Answer that request, then close; don't pull further events.
/// - CONNECT gets no body (RFC 9110 §9.3.6: what follows its head is tunnel data) and closes the connection.
/// - `Upgrade` is ignored (RFC 9110 §7.8 lets a server do so): the connection stays HTTP/1.1.
/// - `requireHost` (default on) enforces RFC 9112 §3.2: an HTTP/1.1 request without Host, any request with
///   two Host lines or an invalid Host value is 400.
/// - Header values are decoded as UTF-8 (invalid sequences become U+FFFD); trailing whitespace is dropped.
public struct HTTPRequestParser: Sendable {
    public enum Phase: Sendable, Equatable { case idle, head, body }

    private enum Mode: Sendable {
        case requestLine, fields, lengthBody, chunkedBody, closed
    }

    public let limits: HTTPLimits
    public let requireHost: Bool

    private var buffer: [UInt8] = []
    /// Bytes before this index are consumed.
    private var readIndex = 0
    private var mode = Mode.requestLine
    private var failure: HTTPParseError?

    private var lineParser: RequestLineParser
    private var fieldParser: FieldSectionParser
    private var chunkedParser: ChunkedBodyParser
    private var rules: FramingRules
    private var line = RequestLine(method: "", target: "", version: .http11)
    private var headers = HTTPHeaders()
    private var body: [UInt8] = []
    private var bodyRemaining = 0

    public init(limits: HTTPLimits = HTTPLimits()) { self.init(limits: limits, requireHost: true) }

    public init(limits: HTTPLimits, requireHost: Bool) {
        self.limits = limits
        self.requireHost = requireHost
        lineParser = RequestLineParser(limit: limits.maxRequestLineBytes)
        fieldParser = Self.headerParser(limits)
        chunkedParser = ChunkedBodyParser(limits: limits)
        rules = FramingRules(maxBodyBytes: limits.maxBodyBytes)
    }

    /// `.idle`: no bytes of a next request buffered; `.head`: inside request line / headers; `.body`: reading a body.
    public var phase: Phase {
        switch mode {
        case .requestLine: return lineParser.hasStarted || readIndex < buffer.count ? .head : .idle
        case .fields: return .head
        case .lengthBody, .chunkedBody: return .body
        case .closed: return .idle
        }
    }

    /// Bytes fed but not yet consumed by `next()`: a server can stop reading while this is large.
    public var bufferedByteCount: Int { buffer.count - readIndex }

    @inlinable
    public mutating func feed<C: Collection>(_ bytes: C) where C.Element == UInt8 {
        let done: Void? = bytes.withContiguousStorageIfAvailable { append($0) }
        if done == nil { Array(bytes).withUnsafeBufferPointer { append($0) } }
    }

    @usableFromInline
    mutating func append(_ bytes: UnsafeBufferPointer<UInt8>) {
        if readIndex == buffer.count {
            // Everything consumed: start over, dropping a large allocation left by a big pipelined burst.
            if buffer.capacity > 1 << 20 { buffer = [] } else { buffer.removeAll(keepingCapacity: true) }
            readIndex = 0
        } else if readIndex >= 4096 && readIndex >= buffer.count / 2 {
            // Amortised compaction: the consumed prefix is at least as large as what is moved.
            buffer.removeSubrange(0..<readIndex)
            readIndex = 0
        }
        buffer.append(contentsOf: bytes)
    }

    /// The next event, nil when more bytes are needed. Throws the first error, and again on every later call.
    public mutating func next() throws(HTTPParseError) -> HTTPParserEvent? {
        if let failure { throw failure }
        let bytes = buffer
        do {
            return try bytes.withUnsafeBufferPointer { (p) throws(HTTPParseError) -> HTTPParserEvent? in
                try step(p)
            }
        } catch {
            failure = error
            throw error
        }
    }

    /// Runs the state machine from `readIndex` until an event, an error, or the end of the buffered bytes.
    private mutating func step(_ p: UnsafeBufferPointer<UInt8>) throws(HTTPParseError) -> HTTPParserEvent? {
        while true {
            switch mode {
            case .requestLine:
                guard let parsed = try lineParser.parse(p, at: &readIndex) else { return nil }
                line = parsed
                mode = .fields
            case .fields:
                guard let event = try fieldParser.parse(p, at: &readIndex) else { return nil }
                switch event {
                case .field(let name, let value):
                    try rules.observe(name: name, value: value)
                    headers.add(name: name, value: value)
                case .end:
                    switch try rules.finish(line, requireHost: requireHost) {
                    case .none:
                        return complete(trailers: HTTPHeaders())
                    case .length(let n):
                        bodyRemaining = n
                        // Reserve a bounded amount: a declared length is a claim, not bytes received.
                        body.reserveCapacity(min(n, 1 << 20))
                        mode = .lengthBody
                    case .chunked:
                        mode = .chunkedBody
                    }
                    if rules.expectsContinue && line.version == .http11 { return .continueExpected }
                }
            case .lengthBody:
                let n = min(bodyRemaining, p.count - readIndex)
                body.append(contentsOf: UnsafeBufferPointer(rebasing: p[readIndex..<(readIndex + n)]))
                readIndex += n
                bodyRemaining -= n
                guard bodyRemaining == 0 else { return nil }
                return complete(trailers: HTTPHeaders())
            case .chunkedBody:
                guard let trailers = try chunkedParser.parse(p, at: &readIndex, into: &body) else { return nil }
                return complete(trailers: trailers)
            case .closed:
                while readIndex < p.count {
                    let b = p[readIndex]
                    guard b == ASCII.cr || b == ASCII.lf else {
                        throw .badRequestLine("data after a request that closes the connection")
                    }
                    readIndex += 1
                }
                return nil
            }
        }
    }

    /// Hands out the finished request and resets the per-request state.
    private mutating func complete(trailers: HTTPHeaders) -> HTTPParserEvent {
        let request = HTTPRequest(
            method: line.method, target: line.target, version: line.version,
            headers: headers, body: body, trailers: trailers)
        headers = HTTPHeaders()
        body = []
        bodyRemaining = 0
        fieldParser = Self.headerParser(limits)
        chunkedParser = ChunkedBodyParser(limits: limits)
        rules = FramingRules(maxBodyBytes: limits.maxBodyBytes)
        mode = request.keepAlive ? .requestLine : .closed
        return .request(request)
    }

    private static func headerParser(_ limits: HTTPLimits) -> FieldSectionParser {
        FieldSectionParser(maxBytes: limits.maxHeaderBytes, maxCount: limits.maxHeaderCount, section: "header")
    }
}
