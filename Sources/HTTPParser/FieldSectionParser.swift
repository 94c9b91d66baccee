/// Resumable state machine for a field section: the header fields after the request line, or the trailer
/// fields after the last chunk (RFC 9112 §5, §7.1.2). It hands out one field line at a time so the caller can
/// check framing fields as soon as they arrive. Strict: no obs-fold, no bare CR or LF, no whitespace before
/// the colon, no control characters in values.
struct FieldSectionParser: Sendable {
    enum Event: Sendable, Equatable {
        case field(name: String, value: String)
        case end
    }

    private enum State: Sendable {
        case lineStart, name, valueLeadingSpace, value, valueLF, endLF
    }

    private let maxBytes: Int
    private let maxCount: Int
    private let section: String
    private var state = State.lineStart
    private var name: [UInt8] = []
    private var value: [UInt8] = []
    private var bytes = 0
    private var fields = 0

    /// `section` names the part in error messages ("header" or "trailer").
    init(maxBytes: Int, maxCount: Int, section: String) {
        self.maxBytes = maxBytes; self.maxCount = maxCount; self.section = section
    }

    /// Consumes bytes from `p[i...]`; returns the next field or the end of the section, nil when more bytes
    /// are needed.
    mutating func parse(_ p: UnsafeBufferPointer<UInt8>, at i: inout Int) throws(HTTPParseError) -> Event? {
        let end = p.count
        while i < end {
            switch state {
            case .lineStart:
                let b = p[i]
                if b == ASCII.cr {
                    try count(1); i += 1; state = .endLF
                } else if ByteSet.tchar.contains(b) {
                    state = .name
                } else if ASCII.isWhitespace(b) {
                    // RFC 9112 §5.2 (obs-fold) and §2.2 (whitespace between start line and first field).
                    throw .badHeader(
                        fields == 0
                            ? "whitespace before the first \(section) field"
                            : "obsolete line folding in \(section) field")
                } else if b == ASCII.lf {
                    throw .badHeader("bare LF in \(section) section")
                } else {
                    throw .badHeader("invalid byte \(hex(b)) at the start of a \(section) field name")
                }
            case .name:
                var j = i
                while j < end, ByteSet.tchar.contains(p[j]) { j += 1 }
                try count(j - i)
                name.append(contentsOf: UnsafeBufferPointer(rebasing: p[i..<j]))
                i = j
                guard i < end else { return nil }
                let b = p[i]
                if b == ASCII.colon {
                    try count(1); i += 1; state = .valueLeadingSpace
                } else if ASCII.isWhitespace(b) {
                    throw .badHeader("whitespace before the colon in \(section) field")  // RFC 9112 §5.1
                } else if b == ASCII.cr || b == ASCII.lf {
                    throw .badHeader("\(section) field line without a colon")
                } else {
                    throw .badHeader("invalid byte \(hex(b)) in \(section) field name")
                }
            case .valueLeadingSpace:
                var j = i
                while j < end, ASCII.isWhitespace(p[j]) { j += 1 }
                try count(j - i)
                i = j
                if i < end { state = .value }
            case .value:
                var j = i
                while j < end, ByteSet.fieldContent.contains(p[j]) { j += 1 }
                try count(j - i)
                value.append(contentsOf: UnsafeBufferPointer(rebasing: p[i..<j]))
                i = j
                guard i < end else { return nil }
                let b = p[i]
                if b == ASCII.cr {
                    try count(1); i += 1; state = .valueLF
                } else if b == ASCII.lf {
                    throw .badHeader("bare LF in \(section) field")
                } else {
                    throw .badHeader("invalid byte \(hex(b)) in \(section) field value")
                }
            case .valueLF:
                guard p[i] == ASCII.lf else { throw .badHeader("CR not followed by LF in \(section) field") }
                try count(1); i += 1
                fields += 1
                if fields > maxCount { throw .headersTooLarge(limit: maxCount) }
                // Trailing whitespace is not part of the value (RFC 9110 §5.5).
                var n = value.count
                while n > 0, ASCII.isWhitespace(value[n - 1]) { n -= 1 }
                let event = Event.field(
                    name: String(decoding: name, as: UTF8.self),
                    value: String(decoding: value[..<n], as: UTF8.self))
                name.removeAll(keepingCapacity: true)
                value.removeAll(keepingCapacity: true)
                state = .lineStart
                return event
            case .endLF:
                guard p[i] == ASCII.lf else {
                    throw .badHeader("CR not followed by LF at the end of the \(section) section")
                }
                try count(1); i += 1
                return .end
            }
        }
        return nil
    }

    private mutating func count(_ n: Int) throws(HTTPParseError) {
        bytes += n
        if bytes > maxBytes { throw .headersTooLarge(limit: maxBytes) }
    }
}
