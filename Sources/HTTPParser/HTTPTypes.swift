// Public vocabulary of the HTTP layer. No Foundation, no I/O: bytes in, values out.

public struct HTTPVersion: Sendable, Equatable, CustomStringConvertible {
    public var major: Int
    public var minor: Int
    public init(major: Int, minor: Int) { self.major = major; self.minor = minor }
    public static let http10 = HTTPVersion(major: 1, minor: 0)
    public static let http11 = HTTPVersion(major: 1, minor: 1)
    public var description: String { "HTTP/\(major).\(minor)" }
}

/// Header fields in arrival order; lookups ignore ASCII case.
public struct HTTPHeaders: Sendable, Equatable, Sequence {
    public private(set) var fields: [(name: String, value: String)] = []

    public init() {}
    public init(_ fields: [(String, String)]) { for (n, v) in fields { add(name: n, value: v) } }

    public mutating func add(name: String, value: String) { fields.append((name, value)) }

    /// Replaces every field of that name with one.
    public mutating func set(name: String, value: String) {
        fields.removeAll { asciiCaseInsensitiveEquals($0.name, name) }
        fields.append((name, value))
    }

    public subscript(name: String) -> String? { fields.first { asciiCaseInsensitiveEquals($0.name, name) }?.value }
    public func values(for name: String) -> [String] {
        fields.filter { asciiCaseInsensitiveEquals($0.name, name) }.map(\.value)
    }
    public func contains(_ name: String) -> Bool { self[name] != nil }
    public var count: Int { fields.count }

    public func makeIterator() -> IndexingIterator<[(name: String, value: String)]> { fields.makeIterator() }

    public static func == (lhs: HTTPHeaders, rhs: HTTPHeaders) -> Bool {
        lhs.fields.count == rhs.fields.count && zip(lhs.fields, rhs.fields).allSatisfy { $0 == $1 }
    }
}

public func asciiCaseInsensitiveEquals(_ a: String, _ b: String) -> Bool {
    let x = a.utf8, y = b.utf8
    guard x.count == y.count else { return false }
    // Native strings expose contiguous UTF-8: compare through pointers, not index-walking iterators
    // (this runs for every header lookup and framing check).
    let fast = x.withContiguousStorageIfAvailable { p in
        y.withContiguousStorageIfAvailable { q in asciiCaseInsensitiveEquals(p, q) }
    }
    if let result = fast ?? nil { return result }
    return zip(x, y).allSatisfy { asciiLower($0) == asciiLower($1) }
}

@inline(__always)
func asciiLower(_ b: UInt8) -> UInt8 { (b >= 65 && b <= 90) ? b | 0x20 : b }

func asciiCaseInsensitiveEquals(_ p: UnsafeBufferPointer<UInt8>, _ q: UnsafeBufferPointer<UInt8>) -> Bool {
    for k in 0..<p.count where p[k] != q[k] && asciiLower(p[k]) != asciiLower(q[k]) { return false }
    return true
}

/// One complete request, body already de-chunked.
public struct HTTPRequest: Sendable, Equatable {
    public var method: String
    /// The request target exactly as sent (origin-form path and query, usually).
    public var target: String
    public var version: HTTPVersion
    public var headers: HTTPHeaders
    public var body: [UInt8]
    /// Trailer fields of a chunked body.
    public var trailers: HTTPHeaders

    public init(
        method: String, target: String, version: HTTPVersion, headers: HTTPHeaders, body: [UInt8] = [],
        trailers: HTTPHeaders = HTTPHeaders()
    ) {
        self.method = method; self.target = target; self.version = version
        self.headers = headers; self.body = body; self.trailers = trailers
    }

    /// Whether the head declared a body length (Content-Length or Transfer-Encoding). A request without either
    /// has no body (RFC 9112 §6.3); a route that needs a body may answer 411 when this is false.
    public var declaresBodyLength: Bool { headers.contains("Content-Length") || headers.contains("Transfer-Encoding") }

    /// Path part of the target, without the query.
    public var path: Substring {
        target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
    }

    /// RFC 9112 §9.3: 1.1 persists unless "close"; 1.0 only with "keep-alive". Never after CONNECT: this
    /// server opens no tunnels, and the bytes after a CONNECT head are tunnel data, not HTTP.
    public var keepAlive: Bool {
        if method == "CONNECT" { return false }
        let tokens = headers.values(for: "Connection").flatMap { $0.split(separator: ",") }
            .map { $0.trimmingSpaces().lowercasedASCII() }
        if tokens.contains("close") { return false }
        if version == .http11 { return true }
        return tokens.contains("keep-alive")
    }
}

/// Limits enforced while parsing, so a hostile client cannot make the server buffer without bound.
public struct HTTPLimits: Sendable, Equatable {
    public var maxRequestLineBytes: Int
    public var maxHeaderBytes: Int
    public var maxHeaderCount: Int
    public var maxBodyBytes: Int
    public init(
        maxRequestLineBytes: Int = 8 * 1024, maxHeaderBytes: Int = 64 * 1024, maxHeaderCount: Int = 100,
        maxBodyBytes: Int = 64 * 1024 * 1024
    ) {
        self.maxRequestLineBytes = maxRequestLineBytes; self.maxHeaderBytes = maxHeaderBytes
        self.maxHeaderCount = maxHeaderCount; self.maxBodyBytes = maxBodyBytes
    }
}

/// The closed set of reasons a request is refused. Each maps to one status code.
public enum HTTPParseError: Error, Sendable, Equatable {
    case badRequestLine(String)
    case badHeader(String)
    case badChunk(String)
    case badContentLength(String)
    case conflictingFraming(String)
    case lengthRequired
    case bodyTooLarge(limit: Int)
    case uriTooLong(limit: Int)
    case headersTooLarge(limit: Int)
    case unsupportedTransferCoding(String)
    case unsupportedVersion(String)

    public var status: Int {
        switch self {
        case .badRequestLine, .badHeader, .badChunk, .badContentLength, .conflictingFraming: return 400
        case .lengthRequired: return 411
        case .bodyTooLarge: return 413
        case .uriTooLong: return 414
        case .headersTooLarge: return 431
        case .unsupportedTransferCoding: return 501
        case .unsupportedVersion: return 505
        }
    }

    public var message: String {
        switch self {
        case .badRequestLine(let s): return "malformed request line: \(s)"
        case .badHeader(let s): return "malformed header: \(s)"
        case .badChunk(let s): return "malformed chunked body: \(s)"
        case .badContentLength(let s): return "invalid Content-Length: \(s)"
        case .conflictingFraming(let s): return "conflicting message framing: \(s)"
        case .lengthRequired: return "a request body needs Content-Length or Transfer-Encoding: chunked"
        case .bodyTooLarge(let limit): return "request body exceeds \(limit) bytes"
        case .uriTooLong(let limit): return "request line exceeds \(limit) bytes"
        case .headersTooLarge(let limit): return "request headers exceed the limit (\(limit))"
        case .unsupportedTransferCoding(let s): return "unsupported transfer coding: \(s)"
        case .unsupportedVersion(let s): return "unsupported HTTP version: \(s)"
        }
    }
}

extension Substring {
    func trimmingSpaces() -> Substring {
        var s = self
        while let f = s.first, f == " " || f == "\t" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" { s.removeLast() }
        return s
    }
    func lowercasedASCII() -> String {
        String(decoding: utf8.map { ($0 >= 65 && $0 <= 90) ? $0 | 0x20 : $0 }, as: UTF8.self)
    }
}
