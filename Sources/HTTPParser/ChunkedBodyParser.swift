/// Resumable state machine for a chunked body (RFC 9112 §7.1):
///
///     chunked-body = *chunk last-chunk trailer-section CRLF
///     chunk        = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
///     chunk-ext    = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] )
///
/// Extensions are validated and dropped. The running body size is checked against the limit while the size
/// digits arrive, so a huge chunk is refused before any of its data is read.
struct ChunkedBodyParser: Sendable {
    /// A chunk-size line (size and extensions) longer than this is refused: no client needs more.
    static let maxChunkLineBytes = 4096

    private enum State: Sendable {
        case size, beforeSemicolon, extNameStart, extName, afterExtName, extValueStart, extToken
        case extQuoted, extQuotedPair, afterExtValue, sizeLF, data, dataCR, dataLF, trailers
    }

    private let maxBodyBytes: Int
    private var state = State.size
    private var chunkSize = 0
    private var sizeDigits = 0
    private var lineBytes = 0
    private var remaining = 0
    private var total = 0
    private var trailerParser: FieldSectionParser
    private var trailers = HTTPHeaders()

    init(limits: HTTPLimits) {
        maxBodyBytes = limits.maxBodyBytes
        trailerParser = FieldSectionParser(
            maxBytes: limits.maxHeaderBytes, maxCount: limits.maxHeaderCount,
            section: "trailer")
    }

    /// Consumes bytes from `p[i...]`, appending chunk data to `body`; returns the trailer fields once the
    /// whole chunked body has been consumed, nil when more bytes are needed.
    mutating func parse(
        _ p: UnsafeBufferPointer<UInt8>, at i: inout Int,
        into body: inout [UInt8]
    ) throws(HTTPParseError) -> HTTPHeaders? {
        let end = p.count
        while i < end {
            if state == .trailers {
                guard let event = try trailerParser.parse(p, at: &i) else { return nil }
                switch event {
                case .field(let name, let value): trailers.add(name: name, value: value)
                case .end: return trailers
                }
                continue
            }
            if state == .data {
                let n = min(remaining, end - i)
                body.append(contentsOf: UnsafeBufferPointer(rebasing: p[i..<(i + n)]))
                i += n; remaining -= n
                if remaining == 0 { state = .dataCR }
                continue
            }
            let b = p[i]
            if state != .dataCR && state != .dataLF {
                lineBytes += 1
                if lineBytes > Self.maxChunkLineBytes { throw .badChunk("chunk-size line too long") }
            }
            i += 1
            switch state {
            case .size:
                if ByteSet.hexDigit.contains(b) {
                    try addDigit(ASCII.hexValue(b))
                } else if sizeDigits == 0 {
                    throw .badChunk("missing chunk size")
                } else if b == ASCII.semicolon {
                    state = .extNameStart
                } else if ASCII.isWhitespace(b) {
                    state = .beforeSemicolon
                } else if b == ASCII.cr {
                    state = .sizeLF
                } else {
                    throw .badChunk("invalid byte \(hex(b)) in chunk size")
                }
            case .beforeSemicolon:
                // BWS is only allowed before ";" (or "="): "a \r\n" is not a chunk-size line.
                if ASCII.isWhitespace(b) { break }
                guard b == ASCII.semicolon else { throw .badChunk("invalid byte \(hex(b)) after chunk size") }
                state = .extNameStart
            case .extNameStart:
                if ASCII.isWhitespace(b) { break }
                guard ByteSet.tchar.contains(b) else { throw .badChunk("missing chunk extension name") }
                state = .extName
            case .extName:
                if ByteSet.tchar.contains(b) { break }
                try afterExtensionPart(b, allowEquals: true)
            case .afterExtName:
                if ASCII.isWhitespace(b) { break }
                if b == ASCII.equals {
                    state = .extValueStart
                } else if b == ASCII.semicolon {
                    state = .extNameStart
                } else {
                    throw .badChunk("invalid byte \(hex(b)) in chunk extension")
                }
            case .extValueStart:
                if ASCII.isWhitespace(b) { break }
                if b == ASCII.quote {
                    state = .extQuoted
                } else if ByteSet.tchar.contains(b) {
                    state = .extToken
                } else {
                    throw .badChunk("invalid chunk extension value")
                }
            case .extToken:
                if ByteSet.tchar.contains(b) { break }
                try afterExtensionPart(b, allowEquals: false)
            case .extQuoted:
                if b == ASCII.quote {
                    state = .afterExtValue
                } else if b == ASCII.backslash {
                    state = .extQuotedPair
                } else if !ByteSet.qdtext.contains(b) {
                    throw .badChunk("invalid byte \(hex(b)) in quoted chunk extension value")
                }
            case .extQuotedPair:
                guard ByteSet.quotedPair.contains(b) else { throw .badChunk("invalid quoted-pair in chunk extension") }
                state = .extQuoted
            case .afterExtValue:
                try afterExtensionPart(b, allowEquals: false)
            case .sizeLF:
                guard b == ASCII.lf else { throw .badChunk("CR not followed by LF after chunk size") }
                lineBytes = 0
                total += chunkSize
                if chunkSize == 0 {
                    state = .trailers
                } else {
                    remaining = chunkSize; state = .data
                }
            case .dataCR:
                guard b == ASCII.cr else { throw .badChunk("chunk data not followed by CRLF") }
                state = .dataLF
            case .dataLF:
                guard b == ASCII.lf else { throw .badChunk("chunk data not followed by CRLF") }
                chunkSize = 0; sizeDigits = 0; state = .size
            case .data, .trailers:
                break  // handled above
            }
        }
        return nil
    }

    /// After an extension name or value: whitespace (then ";" or "="), ";" for the next extension, or CR.
    private mutating func afterExtensionPart(_ b: UInt8, allowEquals: Bool) throws(HTTPParseError) {
        if ASCII.isWhitespace(b) {
            state = allowEquals ? .afterExtName : .beforeSemicolon
        } else if b == ASCII.semicolon {
            state = .extNameStart
        } else if allowEquals && b == ASCII.equals {
            state = .extValueStart
        } else if b == ASCII.cr {
            state = .sizeLF
        } else {
            throw .badChunk("invalid byte \(hex(b)) in chunk extension")
        }
    }

    private mutating func addDigit(_ d: Int) throws(HTTPParseError) {
        sizeDigits += 1
        // chunkSize * 16 + d <= room, tested without overflowing: chunkSize never exceeds maxBodyBytes.
        let room = maxBodyBytes - total
        guard room >= d, chunkSize <= (room - d) / 16 else { throw .bodyTooLarge(limit: maxBodyBytes) }
        chunkSize = chunkSize * 16 + d
    }
}
