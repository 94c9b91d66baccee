import HTTPParser
import Testing

private func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

@Suite("pipelining, 100-continue, phases, trailers, connection end")
struct FlowTests {
    @Test("pipelined requests come out in order; a partial next request stays buffered")
    func pipelining() throws {
        var parser = HTTPRequestParser(limits: HTTPLimits(), requireHost: false)
        parser.feed(
            bytes(
                "POST /a HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc\r\nGET /b HTTP/1.1\r\n\r\n"
                    + "POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nxy\r\n0\r\n\r\nGET /d HT"))
        var targets: [String] = []
        var bodies: [[UInt8]] = []
        while case .request(let r)? = try parser.next() { targets.append(r.target); bodies.append(r.body) }
        #expect(targets == ["/a", "/b", "/c"])
        #expect(bodies == [bytes("abc"), [], bytes("xy")])
        #expect(parser.phase == .head)
        #expect(parser.bufferedByteCount == 0)  // the partial line is consumed into the parser's state
        parser.feed(bytes("TP/1.1\r\n\r\n"))
        guard case .request(let d)? = try parser.next() else { Issue.record("no /d"); return }
        #expect(d.target == "/d")
        #expect(parser.phase == .idle)
        #expect(try parser.next() == nil)
    }

    @Test("bytes wait in the buffer until next() is called")
    func buffered() throws {
        var parser = HTTPRequestParser(limits: HTTPLimits(), requireHost: false)
        #expect(parser.phase == .idle)
        parser.feed(bytes("GET / HTTP/1.1\r\n\r\n"))
        #expect(parser.bufferedByteCount == 18)
        #expect(parser.phase == .head)
        #expect(try parser.next() != nil)
        #expect(parser.bufferedByteCount == 0)
        #expect(parser.phase == .idle)
    }

    @Test("Expect: 100-continue gives continueExpected, then the request once the body arrives")
    func continueExpected() throws {
        var parser = HTTPRequestParser(limits: HTTPLimits(), requireHost: true)
        parser.feed(bytes("POST /s HTTP/1.1\r\nHost: h\r\nExpect: 100-Continue\r\nContent-Length: 4\r\n\r\n"))
        #expect(try parser.next() == .continueExpected)
        #expect(parser.phase == .body)
        #expect(try parser.next() == nil)
        parser.feed(bytes("da"))
        #expect(try parser.next() == nil)
        parser.feed(bytes("ta"))
        guard case .request(let r)? = try parser.next() else { Issue.record("no request"); return }
        #expect(r.body == bytes("data"))
        #expect(parser.phase == .idle)
    }

    @Test("continueExpected only with a body to come and only in HTTP/1.1; also for chunked")
    func continueConditions() {
        let noBody = parse("POST / HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 0\r\n\r\n")
        #expect(noBody.events.count == 1 && noBody.requests.count == 1)
        let http10 = parse("POST / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\nx")
        #expect(http10.events.count == 1 && http10.requests.count == 1)
        let chunked = parse(
            "POST / HTTP/1.1\r\nExpect: 100-continue\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n")
        #expect(chunked.events.first == .continueExpected && chunked.requests.first?.body == [0x78])
        let other = parse("POST / HTTP/1.1\r\nExpect: something\r\nContent-Length: 1\r\n\r\nx")
        #expect(other.events.count == 1)
    }

    @Test("phase walks idle → head → body → idle")
    func phases() throws {
        var parser = HTTPRequestParser(limits: HTTPLimits(), requireHost: false)
        var seen: [HTTPRequestParser.Phase] = [parser.phase]
        for piece in ["\r\n", "POST / HT", "TP/1.1\r\nContent-Length: 2\r\n", "\r\n", "a", "b"] {
            parser.feed(bytes(piece))
            _ = try parser.next()
            seen.append(parser.phase)
        }
        #expect(seen == [.idle, .idle, .head, .head, .body, .body, .idle])
    }

    @Test("trailer fields are kept apart from the header fields")
    func trailers() {
        let run = parse(
            "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTrailer: X-Sum\r\n\r\n"
                + "3\r\nabc\r\n0\r\nX-Sum: 42 \r\nx-other: y\r\n\r\n")
        guard let r = run.requests.first else { Issue.record("no request"); return }
        #expect(r.body == bytes("abc"))
        #expect(r.headers.count == 2)
        #expect(r.trailers["x-sum"] == "42")
        #expect(r.trailers.fields.map(\.name) == ["X-Sum", "x-other"])
        #expect(
            parse("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nA: b\r\n c\r\n\r\n").error?.status == 400)
    }

    @Test("after a closing request only empty lines may follow")
    func closing() throws {
        let closed = parse("POST / HTTP/1.1\r\nConnection: close\r\nContent-Length: 1\r\n\r\nx\r\n\r\n")
        #expect(closed.verdict == .accept && closed.requests.count == 1)
        let after = parse("GET / HTTP/1.0\r\n\r\nGET / HTTP/1.1\r\n\r\n")
        #expect(after.requests.count == 1 && after.error?.status == 400)
        let keepAlive10 = parse("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET / HTTP/1.0\r\n\r\n")
        #expect(keepAlive10.requests.map(\.keepAlive) == [true, false])
    }

    @Test("CONNECT: no body, the connection ends; Upgrade is ignored and HTTP/1.1 goes on")
    func connectAndUpgrade() {
        let connect = parse("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\nContent-Length: 3\r\n\r\nabc")
        #expect(connect.requests.first?.body == [] && connect.requests.first?.keepAlive == false)
        #expect(connect.error?.status == 400)  // the tunnel bytes are not HTTP
        let upgrade = parse(
            "GET / HTTP/1.1\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\nGET /2 HTTP/1.1\r\n\r\n")
        #expect(upgrade.requests.map(\.target) == ["/", "/2"])
    }

    @Test("request targets: origin, absolute, asterisk and authority forms")
    func targets() {
        for (line, target) in [
            ("GET /p?q=1#f HTTP/1.1", "/p?q=1#f"), ("GET http://h:8080/x HTTP/1.1", "http://h:8080/x"),
            ("OPTIONS * HTTP/1.1", "*"), ("CONNECT h.example:443 HTTP/1.1", "h.example:443"),
            ("GET /%E2%82%AC HTTP/1.1", "/%E2%82%AC"),
        ] {
            let run = parse(line + "\r\n\r\n")
            #expect(run.requests.first?.target == target, "\(line)")
        }
        #expect(parse("GET /a/b?x=y HTTP/1.1\r\n\r\n").requests.first?.path == "/a/b")
    }

    @Test("headers keep order and case; lookup ignores case; values are trimmed and UTF-8")
    func headerFields() {
        let raw: [UInt8] =
            bytes("GET / HTTP/1.1\r\nB: 1\r\nA:\t two words \t\r\nb: 3\r\nU: D\u{FC}sseldorf\r\nV: ") + [0xFF]
            + bytes("\r\n\r\n")
        guard let r = parse(raw).requests.first else { Issue.record("no request"); return }
        #expect(r.headers.fields.map(\.name) == ["B", "A", "b", "U", "V"])
        #expect(r.headers["a"] == "two words")
        #expect(r.headers.values(for: "B") == ["1", "3"])
        #expect(r.headers["u"] == "Düsseldorf")
        #expect(r.headers["v"] == "\u{FFFD}")  // invalid UTF-8 is replaced, not refused (obs-text is legal)
    }

    @Test("methods are any token")
    func methods() {
        for m in ["GET", "M-SEARCH", "MKCOLA", "x!#$%&'*+-.^_`|~9"] {
            #expect(parse("\(m) / HTTP/1.1\r\n\r\n").requests.first?.method == m)
        }
    }
}
