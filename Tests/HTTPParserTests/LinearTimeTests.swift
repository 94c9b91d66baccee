import HTTPParser
import Testing

/// Feeding one byte at a time must cost the same per byte as feeding everything at once: a parser that
/// rescans its buffer on each feed is quadratic, which a hostile client can exploit.
@Suite("linear time")
struct LinearTimeTests {
    /// Seconds to parse a request with `n` header bytes and `n` body bytes, fed one byte at a time.
    func oneByteFeeds(_ n: Int) throws -> Double {
        let fields = String(repeating: "X-Pad: " + String(repeating: "p", count: 90) + "\r\n", count: n / 99)
        let text = "POST / HTTP/1.1\r\n\(fields)Content-Length: \(n)\r\n\r\n" + String(repeating: "b", count: n)
        let bytes = Array(text.utf8)
        let limits = HTTPLimits(maxHeaderBytes: 4 * n, maxHeaderCount: n, maxBodyBytes: 4 * n)
        var best = Double.infinity
        for _ in 0..<3 {
            var parser = HTTPRequestParser(limits: limits, requireHost: false)
            var requests = 0
            let start = ContinuousClock.now
            for b in bytes {
                parser.feed(CollectionOfOne(b))
                if case .request? = try parser.next() { requests += 1 }
            }
            let elapsed = ContinuousClock.now - start
            #expect(requests == 1)
            let c = elapsed.components
            best = min(best, Double(c.seconds) + Double(c.attoseconds) * 1e-18)
        }
        return best
    }

    @Test("8x the bytes costs about 8x the time, not 64x")
    func scaling() throws {
        let small = try oneByteFeeds(10_000)
        let large = try oneByteFeeds(80_000)
        print("one-byte feeds: 20 KB in \(small) s, 160 KB in \(large) s, ratio \(large / small)")
        // Linear is 8; quadratic would be 64. The margin absorbs a loaded machine.
        #expect(large / small < 24, "ratio \(large / small)")
    }
}
