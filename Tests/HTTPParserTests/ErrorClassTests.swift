import HTTPParser
import Testing

/// The error a request produces with default limits and no Host requirement.
private func error(of text: String, requireHost: Bool = false) -> HTTPParseError? {
    parse(text, requireHost: requireHost).error
}

@Suite("error classes")
struct ErrorClassTests {
    @Test("every error maps to its status")
    func statuses() {
        let table: [(HTTPParseError, Int)] = [
            (.badRequestLine("x"), 400), (.badHeader("x"), 400), (.badChunk("x"), 400),
            (.badContentLength("x"), 400), (.conflictingFraming("x"), 400), (.lengthRequired, 411),
            (.bodyTooLarge(limit: 1), 413), (.uriTooLong(limit: 1), 414), (.headersTooLarge(limit: 1), 431),
            (.unsupportedTransferCoding("x"), 501), (.unsupportedVersion("x"), 505),
        ]
        for (e, status) in table { #expect(e.status == status, "\(e)") }
    }

    @Test(
        "malformed request lines are 400",
        arguments: [
            "GET  / HTTP/1.1\r\n\r\n",  // two spaces
            "GET / HTTP/1.1 \r\n\r\n",  // trailing space
            "G@T / HTTP/1.1\r\n\r\n",  // non-token method
            " GET / HTTP/1.1\r\n\r\n",  // leading space
            "GET /\r\n\r\n",  // no version (HTTP/0.9)
            "GET / http/1.1\r\n\r\n",  // HTTP-name is case-sensitive
            "GET / HTTP/1.1\n\r\n",  // bare LF after the request line
            "GET / HTTP/1.1\rX: y\r\n\r\n",  // bare CR after the request line
            "GET / HTTP/1.10\r\n\r\n",  // two-digit minor version
            "GET / HTTP/x.1\r\n\r\n",
            "GET /caf\u{E9} HTTP/1.1\r\n\r\n",  // raw UTF-8 in the target
            "GET foo HTTP/1.1\r\n\r\n",  // no form: not origin, absolute, authority or asterisk
            "GET *x HTTP/1.1\r\n\r\n",
            "CONNECT / HTTP/1.1\r\n\r\n",  // CONNECT takes authority-form only
            "CONNECT example.com HTTP/1.1\r\n\r\n",
            "\nGET / HTTP/1.1\r\n\r\n",  // bare LF before the request line
            "GET / HTTP/1.1\r\nConnection: close\r\n\r\nGET / HTTP/1.1\r\n\r\n",  // data after a closing request
        ])
    func badRequestLine(_ text: String) {
        let e = error(of: text)
        #expect(e?.status == 400, "\(text.debugDescription): \(String(describing: e))")
        if case .badRequestLine = e {} else { Issue.record("expected badRequestLine, got \(String(describing: e))") }
    }

    @Test(
        "malformed fields are 400",
        arguments: [
            "GET / HTTP/1.1\r\nA: b\r\n c\r\n\r\n",  // obs-fold
            "GET / HTTP/1.1\r\nA: b\r\n\tc\r\n\r\n",  // obs-fold with a tab
            "GET / HTTP/1.1\r\n X: y\r\n\r\n",  // whitespace after the start line
            "GET / HTTP/1.1\r\nA: b\nC: d\r\n\r\n",  // bare LF
            "GET / HTTP/1.1\r\nA: b\r\n\n",  // bare LF ending the head
            "GET / HTTP/1.1\r\nA: b\rC: d\r\n\r\n",  // bare CR
            "GET / HTTP/1.1\r\nA : b\r\n\r\n",  // whitespace before the colon
            "GET / HTTP/1.1\r\nA\t: b\r\n\r\n",
            "GET / HTTP/1.1\r\n: b\r\n\r\n",  // empty name
            "GET / HTTP/1.1\r\nA(b): c\r\n\r\n",  // non-token name
            "GET / HTTP/1.1\r\nAb\r\n\r\n",  // no colon
            "GET / HTTP/1.1\r\nA: b\u{0}c\r\n\r\n",  // NUL in a value
            "GET / HTTP/1.1\r\nA: b\u{7F}\r\n\r\n",  // DEL in a value
            "GET / HTTP/1.1\r\nA: \u{0C}\r\n\r\n",  // form feed in a value
            "GET / HTTP/1.1\r\nA: b\r\n\rX",  // CR not followed by LF at the end of the head
        ])
    func badHeader(_ text: String) {
        let e = error(of: text)
        #expect(e?.status == 400, "\(text.debugDescription): \(String(describing: e))")
        if case .badHeader = e {} else { Issue.record("expected badHeader, got \(String(describing: e))") }
    }

    @Test(
        "bad Content-Length values are 400",
        arguments: [
            "abc", "-5", "+5", "5 5", "", " ", "0x10", "5,", "5, 6", "99999999999999999999999",
        ])
    func badContentLength(_ value: String) {
        let e = error(of: "POST / HTTP/1.1\r\nContent-Length: \(value)\r\n\r\n")
        #expect(e?.status == 400)
        if case .badContentLength = e {} else { Issue.record("\(value.debugDescription): \(String(describing: e))") }
    }

    @Test("differing duplicate Content-Length is 400; identical duplicates and lists are accepted")
    func duplicateContentLength() {
        let differing = error(of: "POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello")
        #expect(differing == .badContentLength("differing Content-Length values"))
        for head in [
            "Content-Length: 5\r\nContent-Length: 5", "Content-Length: 5, 5", "Content-Length: 005",
            "content-length:5 ,\t5",
        ] {
            let run = parse("POST / HTTP/1.1\r\n\(head)\r\n\r\nhello")
            #expect(run.requests.first?.body == Array("hello".utf8), "\(head.debugDescription)")
        }
    }

    @Test(
        "framing conflicts and a Transfer-Encoding not ending in chunked are 400",
        arguments: [
            "POST / HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
            "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n",
            "POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n",
            "POST / HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
            "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n\r\n",
            "POST / HTTP/1.1\r\nTransfer-Encoding: chunked, chunked\r\n\r\n",
            "POST / HTTP/1.1\r\nTransfer-Encoding: chunkedchunked\r\n\r\n",
            "POST / HTTP/1.1\r\nTransfer-Encoding:\r\n\r\n",
            "POST / HTTP/1.1\r\nTransfer-Encoding: chunked;q=1\r\n\r\n",
            "POST / HTTP/1.1\r\nTransfer-Encoding: \"chunked\"\r\n\r\n",
            "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n",  // faulty framing in 1.0 (RFC 9112 §6.1)
        ])
    func conflictingFraming(_ text: String) {
        let e = error(of: text)
        #expect(e?.status == 400, "\(text.debugDescription)")
        if case .conflictingFraming = e {} else { Issue.record("\(text.debugDescription): \(String(describing: e))") }
    }

    @Test("a coding other than chunked before the final chunked is 501")
    func unsupportedCoding() {
        #expect(
            error(of: "POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n")
                == .unsupportedTransferCoding("gzip"))
        #expect(
            error(of: "POST / HTTP/1.1\r\nTransfer-Encoding: Deflate\r\nTransfer-Encoding: CHUNKED\r\n\r\n")
                == .unsupportedTransferCoding("deflate"))
        // Case-insensitive, empty list elements ignored: this one is plain chunked.
        let run = parse("POST / HTTP/1.1\r\nTransfer-Encoding: , Chunked\r\n\r\n1\r\na\r\n0\r\n\r\n")
        #expect(run.requests.first?.body == [0x61])
    }

    @Test(
        "malformed chunked bodies are 400",
        arguments: [
            "x\r\n",  // not hex
            "\r\n",  // empty size
            "a \r\n0123456789\r\n0\r\n\r\n",  // whitespace without an extension
            "2;\r\naa\r\n0\r\n\r\n",  // ";" without a name
            "2;a=\r\naa\r\n0\r\n\r\n",  // "=" without a value
            "2;a b\r\n",  // whitespace then neither ";" nor "="
            "2;a=\"b\r\n",  // unterminated quoted value
            "2;a=\"b\u{1}\"\r\n",  // control byte in a quoted value
            "2\r\naaa\r\n",  // data longer than the size
            "2\r\naa\n0\r\n\r\n",  // bare LF after data
            "2\naa\r\n",  // bare LF after the size
            "2\r\raa",  // CR not followed by LF
            "3\r\nfoo\r\n\r\n",  // missing last-chunk
            "-1\r\n",
        ])
    func badChunk(_ chunked: String) {
        let e = error(of: "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked)
        #expect(e?.status == 400, "\(chunked.debugDescription)")
        if case .badChunk = e {} else { Issue.record("\(chunked.debugDescription): \(String(describing: e))") }
    }

    @Test("valid chunk extensions, with bad whitespace around ; and =, are accepted and dropped")
    func chunkExtensions() {
        let body = "5;a\r\nhello\r\n1 ; b = c ;d=\"q \\\" ;\"\r\n!\r\n0;last\r\n\r\n"
        let run = parse("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n" + body)
        #expect(run.error == nil)
        #expect(run.requests.first?.body == Array("hello!".utf8))
    }

    @Test("versions other than 1.x are 505; 1.x above 1.1 is treated as 1.1")
    func versions() {
        #expect(error(of: "GET / HTTP/2.0\r\n\r\n") == .unsupportedVersion("HTTP/2.0"))
        #expect(error(of: "GET / HTTP/0.9\r\n\r\n") == .unsupportedVersion("HTTP/0.9"))
        #expect(error(of: "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n") == .unsupportedVersion("HTTP/2.0"))
        #expect(parse("GET / HTTP/1.2\r\n\r\n").requests.first?.version == .http11)
        #expect(parse("GET / HTTP/1.0\r\n\r\n").requests.first?.version == .http10)
    }

    @Test("Host: required once in HTTP/1.1 when requireHost is on (the default)")
    func host() {
        let missing = "GET / HTTP/1.1\r\n\r\n"
        var parser = HTTPRequestParser()
        parser.feed(Array(missing.utf8))
        #expect(throws: HTTPParseError.badHeader("missing Host field")) { try parser.next() }
        #expect(error(of: missing, requireHost: true) == .badHeader("missing Host field"))
        #expect(
            error(of: "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", requireHost: true)
                == .badHeader("more than one Host field"))
        #expect(error(of: "GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", requireHost: true) == .badHeader("invalid Host value"))
        #expect(parse("GET / HTTP/1.0\r\n\r\n", requireHost: true).requests.count == 1)
        #expect(parse("GET / HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n", requireHost: true).requests.count == 1)
        #expect(parse("GET / HTTP/1.1\r\nHost:\r\n\r\n", requireHost: true).requests.count == 1)  // empty is valid
        #expect(parse(missing, requireHost: false).requests.count == 1)
        #expect(parse("GET / HTTP/1.1\r\nHost: a/b\r\nHost: c\r\n\r\n", requireHost: false).requests.count == 1)
    }

    @Test("411 is never raised by the parser: no Content-Length and no Transfer-Encoding means no body")
    func noLengthMeansNoBody() {
        let run = parse("POST /score HTTP/1.1\r\nContent-Type: application/json\r\n\r\n")
        #expect(run.error == nil)
        #expect(run.requests.first?.body == [])
        #expect(run.requests.first?.declaresBodyLength == false)
        #expect(parse("POST / HTTP/1.1\r\nContent-Length: 0\r\n\r\n").requests.first?.declaresBodyLength == true)
    }

    @Test("after an error the parser stays failed")
    func sticky() {
        var parser = HTTPRequestParser(limits: HTTPLimits(), requireHost: false)
        parser.feed(Array("GET / HTTP/1.1\r\nA : b\r\n\r\n".utf8))
        #expect(throws: HTTPParseError.self) { try parser.next() }
        parser.feed(Array("GET / HTTP/1.1\r\n\r\n".utf8))
        #expect(throws: HTTPParseError.badHeader("whitespace before the colon in header field")) { try parser.next() }
    }
}
