/// How the body of a request is delimited (RFC 9112 §6.3).
enum BodyFraming: Sendable, Equatable {
    case none
    case length(Int)
    case chunked
}

/// Collects the header fields that decide framing and connection handling, checking each as it arrives:
/// Content-Length (§8.6 of RFC 9110), Transfer-Encoding (RFC 9112 §6.1), Host (RFC 9112 §3.2), Expect.
struct FramingRules: Sendable {
    private let maxBodyBytes: Int
    private var contentLength: Int?
    private var sawTransferEncoding = false
    /// Transfer codings in order, lowercased, across all Transfer-Encoding lines.
    private var codings: [String] = []
    private var hostCount = 0
    private var hostInvalid = false
    private(set) var expectsContinue = false

    init(maxBodyBytes: Int) { self.maxBodyBytes = maxBodyBytes }

    mutating func observe(name: String, value: String) throws(HTTPParseError) {
        switch name.utf8.count {
        case 14 where asciiCaseInsensitiveEquals(name, "Content-Length"):
            let n = try Self.parseContentLength(value)
            if let previous = contentLength, previous != n {
                throw .badContentLength("differing Content-Length values")
            }
            if sawTransferEncoding { throw .conflictingFraming("both Content-Length and Transfer-Encoding") }
            if n > maxBodyBytes { throw .bodyTooLarge(limit: maxBodyBytes) }
            contentLength = n
        case 17 where asciiCaseInsensitiveEquals(name, "Transfer-Encoding"):
            if contentLength != nil { throw .conflictingFraming("both Content-Length and Transfer-Encoding") }
            sawTransferEncoding = true
            for element in value.utf8.split(separator: 0x2C, omittingEmptySubsequences: false) {
                let trimmed = Self.trimWhitespace(element)
                guard !trimmed.isEmpty else { continue }  // empty list elements are ignored (RFC 9110 §5.6.1)
                codings.append(try Self.codingName(trimmed))
                // Bounds the work a hostile list can cause; real requests carry one or two codings.
                if codings.count > 8 { throw .conflictingFraming("too many transfer codings") }
            }
        case 4 where asciiCaseInsensitiveEquals(name, "Host"):
            hostCount += 1
            if !value.utf8.allSatisfy({ ByteSet.host.contains($0) }) { hostInvalid = true }
        case 6 where asciiCaseInsensitiveEquals(name, "Expect"):
            for element in value.utf8.split(separator: 0x2C) {
                let trimmed = Self.trimWhitespace(element)
                if asciiCaseInsensitiveEquals(String(decoding: trimmed, as: UTF8.self), "100-continue") {
                    expectsContinue = true
                }
            }
        default:
            break
        }
    }

    /// The framing of a request whose head is complete. `requireHost` enforces RFC 9112 §3.2's Host rules.
    func finish(_ line: RequestLine, requireHost: Bool) throws(HTTPParseError) -> BodyFraming {
        if requireHost {
            if hostCount > 1 { throw .badHeader("more than one Host field") }
            if hostInvalid { throw .badHeader("invalid Host value") }
            if hostCount == 0 && line.version == .http11 { throw .badHeader("missing Host field") }
        }
        // RFC 9110 §9.3.6: CONNECT has no content; bytes after its head would belong to the tunnel.
        if line.method == "CONNECT" { return .none }
        if sawTransferEncoding {
            // RFC 9112 §6.1: Transfer-Encoding in an HTTP/1.0 message means the framing is faulty.
            if line.version == .http10 { throw .conflictingFraming("Transfer-Encoding in an HTTP/1.0 request") }
            // RFC 9112 §6.3: chunked must be present, final, and applied once, or the length is unknowable.
            guard codings.last == "chunked" else {
                throw .conflictingFraming("Transfer-Encoding does not end with chunked")
            }
            if codings.dropLast().contains("chunked") { throw .conflictingFraming("chunked applied more than once") }
            // RFC 9112 §6.1: a coding we cannot decode is 501. We decode none but chunked.
            if let other = codings.first(where: { $0 != "chunked" }) { throw .unsupportedTransferCoding(other) }
            return .chunked
        }
        if let n = contentLength, n > 0 { return .length(n) }
        return .none
    }

    /// Content-Length = 1*DIGIT, or a list of identical values ("5, 5"; RFC 9110 §8.6).
    static func parseContentLength(_ value: String) throws(HTTPParseError) -> Int {
        var result: Int?
        for element in value.utf8.split(separator: 0x2C, omittingEmptySubsequences: false) {
            let digits = trimWhitespace(element)
            guard !digits.isEmpty else { throw .badContentLength("empty value") }
            var n = 0
            for b in digits {
                guard ASCII.isDigit(b) else { throw .badContentLength("non-digit in Content-Length") }
                let (times10, o1) = n.multipliedReportingOverflow(by: 10)
                let (sum, o2) = times10.addingReportingOverflow(Int(b - 0x30))
                if o1 || o2 { throw .badContentLength("Content-Length overflows") }
                n = sum
            }
            if let r = result, r != n { throw .badContentLength("differing Content-Length values") }
            result = n
        }
        guard let r = result else { throw .badContentLength("empty value") }
        return r
    }

    /// transfer-coding = token *( OWS ";" OWS transfer-parameter ); returns the lowercased token.
    private static func codingName(_ element: Substring.UTF8View) throws(HTTPParseError) -> String {
        let nameEnd = element.firstIndex(of: ASCII.semicolon) ?? element.endIndex
        let token = trimWhitespace(element[element.startIndex..<nameEnd])
        guard !token.isEmpty, token.allSatisfy({ ByteSet.tchar.contains($0) }) else {
            throw .conflictingFraming("malformed Transfer-Encoding")
        }
        let name = String(decoding: token.map { ($0 >= 65 && $0 <= 90) ? $0 | 0x20 : $0 }, as: UTF8.self)
        // chunked takes no parameters (RFC 9112 §7).
        if name == "chunked" && nameEnd != element.endIndex { throw .conflictingFraming("chunked with parameters") }
        return name
    }

    private static func trimWhitespace<S: BidirectionalCollection>(_ s: S) -> S.SubSequence where S.Element == UInt8 {
        var lo = s.startIndex, hi = s.endIndex
        while lo < hi, ASCII.isWhitespace(s[lo]) { lo = s.index(after: lo) }
        while hi > lo, ASCII.isWhitespace(s[s.index(before: hi)]) { hi = s.index(before: hi) }
        return s[lo..<hi]
    }
}
