import HTTPParser

/// One fuzz input's checks. A broken invariant stops the process (`fatalError`), which libFuzzer records as
/// a crash with the input that caused it.
enum FuzzCheck {
    /// Small enough that random inputs reach every limit.
    static let limits = HTTPLimits(maxRequestLineBytes: 200, maxHeaderBytes: 400, maxHeaderCount: 8, maxBodyBytes: 600)

    /// What a parser made of an input.
    struct Outcome: Equatable {
        var events: [HTTPParserEvent] = []
        var error: HTTPParseError?
        var phase: HTTPRequestParser.Phase = .idle
    }

    static func run(_ bytes: [UInt8], cuts: [Int], requireHost: Bool) -> Outcome {
        var parser = HTTPRequestParser(limits: limits, requireHost: requireHost)
        var outcome = Outcome()
        var start = 0
        for end in cuts + [bytes.count] where end >= start && end <= bytes.count {
            parser.feed(bytes[start..<end])
            start = end
            do {
                while let event = try parser.next() { outcome.events.append(event) }
            } catch {
                outcome.error = error
                // Failed parsers stay failed.
                parser.feed(bytes[0..<min(4, bytes.count)])
                do { _ = try parser.next(); fatalError("parser recovered after \(error)") } catch {
                    if error != outcome.error { fatalError("different error on retry: \(error)") }
                }
                break
            }
        }
        outcome.phase = parser.phase
        return outcome
    }

    /// Invariants of one outcome: the limits hold, and the event sequence is well formed.
    static func checkInvariants(_ o: Outcome) {
        var expectingRequest = false
        for event in o.events {
            switch event {
            case .continueExpected:
                if expectingRequest { fatalError("two continueExpected without a request") }
                expectingRequest = true
            case .request(let r):
                expectingRequest = false
                if r.body.count > limits.maxBodyBytes { fatalError("body of \(r.body.count) bytes over the limit") }
                if r.headers.count > limits.maxHeaderCount || r.trailers.count > limits.maxHeaderCount {
                    fatalError("more fields than the limit")
                }
                if r.method.isEmpty || r.target.isEmpty { fatalError("empty method or target") }
                if r.method.utf8.count + r.target.utf8.count + 10 > limits.maxRequestLineBytes {
                    fatalError("request line over the limit")
                }
                for (name, value) in r.headers.fields + r.trailers.fields {
                    if name.isEmpty || name.utf8.contains(where: { $0 <= 0x20 || $0 == 0x3A }) {
                        fatalError("bad name \(name)")
                    }
                    if value.utf8.contains(where: { $0 == 0x0D || $0 == 0x0A || $0 == 0 }) { fatalError("bad value") }
                    if value.first == " " || value.last == " " { fatalError("untrimmed value") }
                }
                if !r.declaresBodyLength && !r.body.isEmpty { fatalError("body without framing") }
            }
        }
        if expectingRequest && o.error == nil && o.phase != .body { fatalError("continueExpected outside a body") }
    }

    /// Whole input, then split at input-derived points and byte by byte: all must give the same outcome.
    static func check(_ bytes: [UInt8]) {
        let requireHost = bytes.first.map { $0 & 1 == 1 } ?? false
        let whole = run(bytes, cuts: [], requireHost: requireHost)
        checkInvariants(whole)
        guard bytes.count > 1 else { return }
        var state = UInt64(bytes.count) &* 0x9E37_79B9_7F4A_7C15
        for b in bytes.prefix(16) { state = (state ^ UInt64(b)) &* 0x1000_0000_01B3 }
        var cuts: [Int] = []
        for _ in 0..<4 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            cuts.append(Int(state >> 33) % bytes.count)
        }
        let splits: [[Int]] =
            [[bytes.count / 2], [cuts[0]], cuts.sorted()]
            + (bytes.count <= 1024 ? [Array(0..<bytes.count)] : [])
        for s in splits {
            let other = run(bytes, cuts: s, requireHost: requireHost)
            if other != whole {
                fatalError(
                    "split \(s.count > 8 ? "byte by byte" : "\(s)") differs: \(other.error.map { "\($0)" } ?? "ok") vs \(whole.error.map { "\($0)" } ?? "ok")"
                )
            }
        }
    }
}
