import HTTPParser
import Testing

@Suite("limits")
struct LimitTests {
    let limits = HTTPLimits(maxRequestLineBytes: 32, maxHeaderBytes: 64, maxHeaderCount: 3, maxBodyBytes: 10)

    @Test("request line: exactly the limit parses, one byte more is 414")
    func requestLine() {
        // "GET " + target + " HTTP/1.1" is 13 bytes plus the target.
        let fits = "GET /" + String(repeating: "a", count: 18) + " HTTP/1.1\r\n\r\n"
        let over = "GET /" + String(repeating: "a", count: 19) + " HTTP/1.1\r\n\r\n"
        #expect(parse(fits, limits: limits).requests.count == 1)
        #expect(parse(over, limits: limits).error == .uriTooLong(limit: 32))
        // Refused while the target is still arriving: no need to wait for its end.
        #expect(parse("GET /" + String(repeating: "a", count: 100), limits: limits).error == .uriTooLong(limit: 32))
        #expect(parse("GET /" + String(repeating: "a", count: 100), limits: limits).error?.status == 414)
    }

    @Test("header section: bytes over the limit and fields over the count are 431")
    func headers() {
        // The section counts every byte after the request line, the final empty line included.
        let field = "X: " + String(repeating: "v", count: 57) + "\r\n"  // 62 bytes, + final CRLF = 64
        #expect(parse("GET / HTTP/1.1\r\n" + field + "\r\n", limits: limits).requests.count == 1)
        let bigger = "X: " + String(repeating: "v", count: 58) + "\r\n"
        #expect(parse("GET / HTTP/1.1\r\n" + bigger + "\r\n", limits: limits).error == .headersTooLarge(limit: 64))
        #expect(
            parse("GET / HTTP/1.1\r\nX: " + String(repeating: "v", count: 500), limits: limits).error?.status == 431)
        let three = "GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n"
        let four = "GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n"
        #expect(parse(three, limits: limits).requests.first?.headers.count == 3)
        #expect(parse(four, limits: limits).error == .headersTooLarge(limit: 3))
    }

    @Test("Content-Length over the body limit is 413 before any body byte arrives")
    func contentLength() {
        #expect(
            parse("POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\n0123456789", limits: limits).requests.first?.body.count
                == 10)
        #expect(
            parse("POST / HTTP/1.1\r\nContent-Length: 11\r\n\r\n", limits: limits).error == .bodyTooLarge(limit: 10))
    }

    @Test("chunked bodies: the running total over the limit is 413, even inside a chunk-size")
    func chunked() {
        let head = "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
        #expect(parse(head + "5\r\n01234\r\n5\r\n56789\r\n0\r\n\r\n", limits: limits).requests.first?.body.count == 10)
        #expect(parse(head + "5\r\n01234\r\n6\r\n", limits: limits).error == .bodyTooLarge(limit: 10))
        #expect(parse(head + "ffffffffffffffffffffffff", limits: limits).error == .bodyTooLarge(limit: 10))
        // Leading zeros are not a size: they are bounded by the chunk line length only.
        #expect(
            parse(head + String(repeating: "0", count: 100) + "5\r\nhello\r\n0\r\n\r\n", limits: limits)
                .requests.first?.body == Array("hello".utf8))
        #expect(parse(head + "1;" + String(repeating: "x", count: 5000), limits: limits).error?.status == 400)
    }

    @Test("trailers share the header limits")
    func trailers() {
        let head = "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n"
        #expect(
            parse(head + "A: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n", limits: limits).error == .headersTooLarge(limit: 3))
        #expect(
            parse(head + "A: " + String(repeating: "v", count: 100) + "\r\n\r\n", limits: limits).error
                == .headersTooLarge(limit: 64))
    }

    @Test("the default limits are the documented ones")
    func defaults() {
        let d = HTTPLimits()
        #expect(d.maxRequestLineBytes == 8192 && d.maxHeaderBytes == 65536 && d.maxHeaderCount == 100)
        #expect(d.maxBodyBytes == 64 << 20)
    }
}
