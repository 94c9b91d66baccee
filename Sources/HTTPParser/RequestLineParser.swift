/// The request line, RFC 9112 §3: method SP request-target SP HTTP-version CRLF.
struct RequestLine: Sendable, Equatable {
    var method: String
    var target: String
    var version: HTTPVersion
}

/// Resumable state machine for the request line and the empty lines a client may send before it
/// (RFC 9112 §2.2). Each error is raised at the first byte that makes the line invalid, so the verdict never
/// depends on how the input was split into reads.
struct RequestLineParser: Sendable {
    private enum State: Sendable, Equatable {
        case start, startLF, method, target, version, versionCR, lineLF
    }

    private static let versionPrefix: [UInt8] = Array("HTTP/".utf8)

    private let limit: Int
    private var state = State.start
    private var scratch: [UInt8] = []
    private var method = ""
    private var target = ""
    private var versionMatched = 0
    private var major = 0
    private var minor = 0
    private var lineBytes = 0
    private var blankBytes = 0

    init(limit: Int) { self.limit = limit }

    /// True once a byte of the request line itself (not a preceding empty line) has been consumed.
    var hasStarted: Bool { state != .start }

    /// Consumes bytes from `p[i...]`; returns the line once its CRLF is consumed, nil when more bytes are needed.
    mutating func parse(_ p: UnsafeBufferPointer<UInt8>, at i: inout Int) throws(HTTPParseError) -> RequestLine? {
        let end = p.count
        while i < end {
            switch state {
            case .start:
                let b = p[i]
                if b == ASCII.cr {
                    try countBlank(); i += 1; state = .startLF
                } else if b == ASCII.lf {
                    throw .badRequestLine("bare LF before the request line")
                } else {
                    state = .method
                }
            case .startLF:
                guard p[i] == ASCII.lf else { throw .badRequestLine("CR not followed by LF before the request line") }
                try countBlank(); i += 1; state = .start
            case .method:
                var j = i
                while j < end, ByteSet.tchar.contains(p[j]) { j += 1 }
                try take(p, from: i, to: j)
                i = j
                guard i < end else { return nil }
                guard p[i] == ASCII.space else { throw .badRequestLine("invalid byte \(hex(p[i])) in method") }
                guard !scratch.isEmpty else { throw .badRequestLine("empty method") }
                method = String(decoding: scratch, as: UTF8.self)
                scratch.removeAll(keepingCapacity: true)
                try count(1); i += 1; state = .target
            case .target:
                var j = i
                while j < end, ByteSet.target.contains(p[j]) { j += 1 }
                try take(p, from: i, to: j)
                i = j
                guard i < end else { return nil }
                let b = p[i]
                if b == ASCII.cr || b == ASCII.lf { throw .badRequestLine("missing HTTP version") }
                guard b == ASCII.space else { throw .badRequestLine("invalid byte \(hex(b)) in request target") }
                guard !scratch.isEmpty else { throw .badRequestLine("empty request target") }
                try RequestTargetForm.validate(scratch, method: method)
                target = String(decoding: scratch, as: UTF8.self)
                scratch.removeAll(keepingCapacity: true)
                try count(1); i += 1; state = .version
            case .version:
                try matchVersionByte(p[i])
                try count(1); i += 1
            case .versionCR:
                guard p[i] == ASCII.cr else { throw .badRequestLine("expected CRLF after the HTTP version") }
                i += 1; state = .lineLF  // the limit counts the line without its CRLF
            case .lineLF:
                guard p[i] == ASCII.lf else { throw .badRequestLine("CR not followed by LF after the request line") }
                i += 1
                let line = RequestLine(method: method, target: target, version: HTTPVersion(major: major, minor: minor))
                self = RequestLineParser(limit: limit)
                return line
            }
        }
        return nil
    }

    /// HTTP-version = "HTTP/" DIGIT "." DIGIT (case-sensitive, RFC 9112 §2.3). A syntactically valid version
    /// other than 1.x is refused with 505 as soon as its last digit arrives.
    private mutating func matchVersionByte(_ b: UInt8) throws(HTTPParseError) {
        let k = versionMatched
        if k < 5 {
            guard b == Self.versionPrefix[k] else { throw .badRequestLine("malformed HTTP version") }
        } else if k == 6 {
            guard b == 0x2E else { throw .badRequestLine("malformed HTTP version") }
        } else {
            guard ASCII.isDigit(b) else { throw .badRequestLine("malformed HTTP version") }
            if k == 5 { major = Int(b - 0x30) } else { minor = Int(b - 0x30) }
        }
        versionMatched += 1
        guard versionMatched == 8 else { return }
        guard major == 1 else { throw .unsupportedVersion("HTTP/\(major).\(minor)") }
        // RFC 9110 §2.5: a higher minor version is processed as the highest one we implement.
        if minor > 1 { minor = 1 }
        state = .versionCR
    }

    private mutating func take(_ p: UnsafeBufferPointer<UInt8>, from i: Int, to j: Int) throws(HTTPParseError) {
        guard j > i else { return }
        try count(j - i)
        scratch.append(contentsOf: UnsafeBufferPointer(rebasing: p[i..<j]))
    }

    private mutating func count(_ n: Int) throws(HTTPParseError) {
        lineBytes += n
        if lineBytes > limit { throw .uriTooLong(limit: limit) }
    }

    private mutating func countBlank() throws(HTTPParseError) {
        blankBytes += 1
        if blankBytes > limit { throw .badRequestLine("too many empty lines before the request line") }
    }
}

/// The four request-target forms of RFC 9112 §3.2.
enum RequestTargetForm {
    static func validate(_ t: [UInt8], method: String) throws(HTTPParseError) {
        if method == "CONNECT" {
            guard isAuthorityForm(t) else { throw .badRequestLine("CONNECT needs an authority-form target") }
            return
        }
        let first = t[0]
        if first == ASCII.slash { return }  // origin-form
        if first == ASCII.asterisk {
            // asterisk-form; which methods may use it is the router's business (OPTIONS, in RFC 9112 §3.2.4).
            guard t.count == 1 else { throw .badRequestLine("invalid request target") }
            return
        }
        guard isAbsoluteForm(t) else { throw .badRequestLine("invalid request target") }
    }

    /// scheme ":" hier-part: ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) ":".
    private static func isAbsoluteForm(_ t: [UInt8]) -> Bool {
        guard ASCII.isAlpha(t[0]) else { return false }
        var k = 1
        while k < t.count, ByteSet.scheme.contains(t[k]) { k += 1 }
        return k < t.count && t[k] == ASCII.colon
    }

    /// uri-host ":" port.
    private static func isAuthorityForm(_ t: [UInt8]) -> Bool {
        guard let colon = t.lastIndex(of: ASCII.colon), colon > 0, colon < t.count - 1 else { return false }
        for k in 0..<colon where !ByteSet.host.contains(t[k]) { return false }
        for k in (colon + 1)..<t.count where !ASCII.isDigit(t[k]) { return false }
        return true
    }
}

func hex(_ b: UInt8) -> String {
    let digits: [Character] = Array("0123456789ABCDEF")
    return "0x" + String(digits[Int(b >> 4)]) + String(digits[Int(b & 15)])
}
