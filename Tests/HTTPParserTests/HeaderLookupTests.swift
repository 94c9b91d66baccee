import HTTPParser
import Testing

@Suite("header lookup")
struct HeaderLookupTests {
    @Test("ASCII case-insensitive comparison, and only ASCII")
    func caseInsensitive() {
        #expect(asciiCaseInsensitiveEquals("Content-Length", "content-LENGTH"))
        #expect(!asciiCaseInsensitiveEquals("Content-Length", "Content-Lengt"))
        #expect(!asciiCaseInsensitiveEquals("Content-Length", "Content_Length"))
        #expect(!asciiCaseInsensitiveEquals("[", "{"))  // 0x5B vs 0x7B differ only in bit 0x20
        #expect(!asciiCaseInsensitiveEquals("\u{C4}", "\u{E4}"))  // Ä/ä: not ASCII, so not folded
        #expect(asciiCaseInsensitiveEquals("", ""))
        let sub = "xxHOSTxx".dropFirst(2).dropLast(2)
        #expect(asciiCaseInsensitiveEquals(String(sub), "host"))
    }

    @Test("lookups keep arrival order; set replaces every field of that name")
    func headers() {
        var h = HTTPHeaders([("Accept", "a"), ("X-N", "1"), ("accept", "b")])
        #expect(h["ACCEPT"] == "a")
        #expect(h.values(for: "accept") == ["a", "b"])
        #expect(h.contains("x-n") && !h.contains("x-m"))
        h.set(name: "Accept", value: "c")
        #expect(h.fields.map(\.name) == ["X-N", "Accept"])
        #expect(h.values(for: "accept") == ["c"])
    }
}
