import Testing

@testable import HTTPParser

/// The masks in ByteSet.swift against the RFC's character lists, for all 256 byte values.
@Suite("byte classes")
struct ByteSetTests {
    static let alpha = Set(Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ".utf8))
    static let digit = Set(Array("0123456789".utf8))

    func check(_ set: ByteSet, _ name: String, _ expected: (UInt8) -> Bool) {
        for b in UInt8.min...UInt8.max where set.contains(b) != expected(b) {
            Issue.record("\(name): byte \(b)")
        }
    }

    @Test func masksMatchTheGrammar() {
        let tchar = Self.alpha.union(Self.digit).union(Array("!#$%&'*+-.^_`|~".utf8))
        check(.tchar, "tchar") { tchar.contains($0) }
        check(.fieldContent, "field content") { $0 == 9 || $0 == 32 || (0x21...0x7E).contains($0) || $0 >= 0x80 }
        check(.target, "target") { (0x21...0x7E).contains($0) }
        check(.qdtext, "qdtext") {
            $0 == 9 || $0 == 32 || $0 == 0x21 || (0x23...0x5B).contains($0) || (0x5D...0x7E).contains($0) || $0 >= 0x80
        }
        check(.quotedPair, "quoted-pair") { $0 == 9 || $0 == 32 || (0x21...0x7E).contains($0) || $0 >= 0x80 }
        check(.hexDigit, "HEXDIG") { Self.digit.contains($0) || Set(Array("abcdefABCDEF".utf8)).contains($0) }
        let host = Self.alpha.union(Self.digit).union(Array("-._~%!$&'()*+,;=:[]".utf8))
        check(.host, "host") { host.contains($0) }
        check(.scheme, "scheme") { Self.alpha.union(Self.digit).union(Array("+-.".utf8)).contains($0) }
    }

    @Test func hexValues() {
        for (c, v) in zip(Array("0123456789abcdefABCDEF".utf8), Array(0...15) + Array(10...15)) {
            #expect(ASCII.hexValue(c) == v)
        }
    }
}
