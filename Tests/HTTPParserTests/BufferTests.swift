import HTTPParser
import Testing

/// The parser's buffer drops consumed bytes as new ones arrive; what is still unread must survive intact.
@Suite("buffer management")
struct BufferTests {
    func request(_ k: Int) -> [UInt8] {
        let body = String(repeating: Character(UnicodeScalar(UInt8(97 + k % 26))), count: 1000)
        return Array("POST /\(k) HTTP/1.1\r\nContent-Length: 1000\r\n\r\n\(body)".utf8)
    }

    @Test("compaction between feeds keeps unread pipelined requests")
    func compaction() throws {
        var parser = HTTPRequestParser(limits: HTTPLimits(), requireHost: false)
        parser.feed((0..<10).flatMap(request))
        var seen: [HTTPRequest] = []
        for _ in 0..<6 {
            if case .request(let r)? = try parser.next() { seen.append(r) }
        }
        // About 6 KB consumed of 10 KB buffered: the next feed moves the unread rest to the front.
        #expect(parser.bufferedByteCount == 4 * request(0).count)
        parser.feed((10..<20).flatMap(request))
        while case .request(let r)? = try parser.next() { seen.append(r) }
        let expectedTargets: [String] = (0..<20).map { "/\($0)" }
        let expectedFirstBytes: [UInt8?] = (0..<20).map { UInt8(97 + $0 % 26) }
        let firstBytes: [UInt8?] = seen.map { $0.body.first }
        #expect(seen.map(\.target) == expectedTargets)
        #expect(firstBytes == expectedFirstBytes)
        #expect(seen.allSatisfy { $0.body.count == 1000 })
    }

    @Test("a large body does not pin its buffer; the next request parses normally")
    func largeBody() throws {
        var parser = HTTPRequestParser(limits: HTTPLimits(), requireHost: false)
        let size = 3 << 20
        parser.feed(
            Array("POST / HTTP/1.1\r\nContent-Length: \(size)\r\n\r\n".utf8) + [UInt8](repeating: 7, count: size))
        guard case .request(let big)? = try parser.next() else { Issue.record("no request"); return }
        #expect(big.body.count == size && big.body.allSatisfy { $0 == 7 })
        parser.feed(Array("GET /next HTTP/1.1\r\n\r\n".utf8))
        guard case .request(let next)? = try parser.next() else { Issue.record("no second request"); return }
        #expect(next.target == "/next")
        #expect(parser.bufferedByteCount == 0)
    }

    @Test("chunk extension corner cases")
    func extensions() {
        let head = "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
        #expect(parse(head + "1;a ;b\r\nx\r\n0\r\n\r\n").requests.first?.body == [0x78])
        #expect(parse(head + "1;a =\t\"\\\"\"\r\nx\r\n0\r\n\r\n").requests.first?.body == [0x78])
        #expect(parse(head + "1;a x\r\n").error?.status == 400)
        #expect(parse(head + "1;a=\"\\\u{1}\"\r\n").error?.status == 400)
        #expect(parse(head + "1\r\nxy").error == .badChunk("chunk data not followed by CRLF"))
        #expect(parse(head + "1\r\nx\ry").error == .badChunk("chunk data not followed by CRLF"))
    }
}
