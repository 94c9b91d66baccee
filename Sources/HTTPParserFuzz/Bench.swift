import HTTPParser

/// `HTTPParserFuzz --bench`: parser throughput on a typical scoring request (a requests-style POST with a
/// small JSON body), pipelined in 41 KB reads, fed one byte at a time, and a 32 MiB body in 64 KiB reads.
/// Build with -c release for meaningful numbers.
enum Bench {
    static func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
    }

    static func run() throws(HTTPParseError) {
        let body = String(repeating: "{\"query\":[\"hello world\"]}", count: 8)
        let one = Array(
            ("POST /get_reward HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUser-Agent: python-requests/2.31.0\r\n"
                + "Accept-Encoding: gzip, deflate\r\nAccept: */*\r\nConnection: keep-alive\r\n"
                + "Content-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)").utf8)
        let clock = ContinuousClock()

        let batch = Array((0..<100).map { _ in one }.joined())
        var parser = HTTPRequestParser()
        var count = 0
        var t = clock.now
        for _ in 0..<2000 {
            parser.feed(batch)
            while case .request? = try parser.next() { count += 1 }
        }
        var s = seconds(clock.now - t)
        print(
            "pipelined: \(count) requests of \(one.count) B in \(s) s = \(Int(Double(count) / s)) req/s, "
                + "\(Double(count * one.count) / s / 1e6) MB/s")

        parser = HTTPRequestParser()
        count = 0
        t = clock.now
        for _ in 0..<2000 {
            for b in one {
                parser.feed(CollectionOfOne(b))
                if case .request? = try parser.next() { count += 1 }
            }
        }
        s = seconds(clock.now - t)
        print("one byte per feed: \(count) requests in \(s) s = \(Double(count * one.count) / s / 1e6) MB/s")

        parser = HTTPRequestParser()
        let size = 32 << 20
        let read = [UInt8](repeating: 0x61, count: 64 << 10)
        t = clock.now
        parser.feed(Array("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: \(size)\r\n\r\n".utf8))
        var done = try parser.next() != nil
        for _ in 0..<(size / read.count) {
            parser.feed(read)
            if try parser.next() != nil { done = true }
        }
        s = seconds(clock.now - t)
        print("32 MiB Content-Length body in 64 KiB reads: \(s) s = \(Double(size) / s / 1e6) MB/s, complete: \(done)")
    }
}
