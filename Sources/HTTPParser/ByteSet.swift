// Byte classes of RFC 9110/9112 as 256-bit masks: one shift and test per byte, no table loads, no Strings.
// The masks were generated from the grammar's character lists (see the comment on each) and are checked
// against those lists in ByteSetTests.

struct ByteSet: Sendable {
    let w0: UInt64, w1: UInt64, w2: UInt64, w3: UInt64

    @inline(__always)
    func contains(_ b: UInt8) -> Bool {
        let word: UInt64
        switch b >> 6 {
        case 0: word = w0
        case 1: word = w1
        case 2: word = w2
        default: word = w3
        }
        return (word >> UInt64(b & 63)) & 1 == 1
    }

    /// tchar: "!#$%&'*+-.^_`|~", DIGIT, ALPHA (RFC 9110 §5.6.2).
    static let tchar = ByteSet(w0: 0x03FF_6CFA_0000_0000, w1: 0x57FF_FFFF_C7FF_FFFE, w2: 0, w3: 0)
    /// Bytes allowed inside a field value: SP, HTAB, VCHAR, obs-text (RFC 9110 §5.5).
    static let fieldContent = ByteSet(
        w0: 0xFFFF_FFFF_0000_0200, w1: 0x7FFF_FFFF_FFFF_FFFF,
        w2: .max, w3: .max)
    /// Bytes allowed in a request target: visible ASCII (0x21...0x7E). Non-ASCII must be percent-encoded.
    static let target = ByteSet(w0: 0xFFFF_FFFE_0000_0000, w1: 0x7FFF_FFFF_FFFF_FFFF, w2: 0, w3: 0)
    /// qdtext: HTAB, SP, 0x21, 0x23...0x5B, 0x5D...0x7E, obs-text (RFC 9110 §5.6.4).
    static let qdtext = ByteSet(w0: 0xFFFF_FFFB_0000_0200, w1: 0x7FFF_FFFF_EFFF_FFFF, w2: .max, w3: .max)
    /// The byte after a backslash in a quoted-pair: HTAB, SP, VCHAR, obs-text.
    static let quotedPair = ByteSet(w0: 0xFFFF_FFFF_0000_0200, w1: 0x7FFF_FFFF_FFFF_FFFF, w2: .max, w3: .max)
    /// HEXDIG, either case.
    static let hexDigit = ByteSet(w0: 0x03FF_0000_0000_0000, w1: 0x0000_007E_0000_007E, w2: 0, w3: 0)
    /// Host field value bytes: unreserved, pct-encoded's "%", sub-delims, ":" and the IP-literal brackets.
    static let host = ByteSet(w0: 0x2FFF_7FF2_0000_0000, w1: 0x47FF_FFFE_AFFF_FFFE, w2: 0, w3: 0)
    /// URI scheme bytes after the first ALPHA: ALPHA, DIGIT, "+", "-", "." (RFC 3986 §3.1).
    static let scheme = ByteSet(w0: 0x03FF_6800_0000_0000, w1: 0x07FF_FFFE_07FF_FFFE, w2: 0, w3: 0)
}

enum ASCII {
    static let tab: UInt8 = 0x09
    static let lf: UInt8 = 0x0A
    static let cr: UInt8 = 0x0D
    static let space: UInt8 = 0x20
    static let quote: UInt8 = 0x22
    static let slash: UInt8 = 0x2F
    static let colon: UInt8 = 0x3A
    static let semicolon: UInt8 = 0x3B
    static let equals: UInt8 = 0x3D
    static let asterisk: UInt8 = 0x2A
    static let backslash: UInt8 = 0x5C

    @inline(__always) static func isWhitespace(_ b: UInt8) -> Bool { b == space || b == tab }
    @inline(__always) static func isAlpha(_ b: UInt8) -> Bool { (b | 0x20) >= 0x61 && (b | 0x20) <= 0x7A }
    @inline(__always) static func isDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }

    /// Value of a hex digit; the caller has checked `ByteSet.hexDigit`.
    @inline(__always) static func hexValue(_ b: UInt8) -> Int {
        b <= 0x39 ? Int(b - 0x30) : Int((b | 0x20) - 0x61 + 10)
    }
}
