import HTTPParser
import Testing

/// nodejs/http-parser was a lenient parser: its table holds requests it parsed that RFC 9112 forbids.
/// These are the ones a strict parser refuses, by table index, with the status we answer and why.
let httpParserStrictRejections: [Int: (status: Int, reason: String)] = [
    19: (400, "RFC 9112 §3: no HTTP-version (an HTTP/0.9 simple request)"),
    21: (400, "RFC 9112 §5.2: obs-fold"),
    32: (400, "RFC 9112 §2.2: bare LF line endings (and obs-fold)"),
    33: (400, "RFC 9112 §5.2: obs-fold"),
    35: (400, "RFC 9112 §5.2: obs-fold"),
    41: (400, "RFC 9112 §2.3: ICE/1.0 is not an HTTP-version"),
    42: (501, "RFC 9112 §6.1: deflate is a transfer coding we do not decode"),
    43: (400, "RFC 9112 §5.2: obs-fold (inside Transfer-Encoding)"),
    44: (400, "RFC 9112 §6.1: Content-Length together with Transfer-Encoding"),
]

@Suite("http-parser request corpus")
struct HTTPParserCorpusTests {
    let cases: [HTTPParserCase]

    init() throws { cases = try CorpusFiles.load("http-parser-requests.jsonl", as: HTTPParserCase.self) }

    @Test("all 45 requests parse to the recorded fields, or are refused for the listed RFC reason")
    func fields() {
        #expect(cases.count == 45)
        var agree = 0
        for c in cases {
            let run = parse(c.bytes)
            if let rejection = httpParserStrictRejections[c.index] {
                #expect(
                    run.requests.isEmpty && run.error?.status == rejection.status,
                    "#\(c.index) \(c.name): expected \(rejection.status) (\(rejection.reason)), got \(String(describing: run.error))"
                )
                continue
            }
            // Upgrade and CONNECT requests are followed by bytes of another protocol: only the first request counts.
            guard let r = run.requests.first else {
                Issue.record("#\(c.index) \(c.name): no request, \(String(describing: run.error))")
                continue
            }
            let same =
                r.method == c.method && r.target == c.url && "\(r.version.major).\(r.version.minor)" == c.http
                && r.headers.fields.map { [$0.name, $0.value] } + r.trailers.fields.map { [$0.name, $0.value] }
                    == c.headers.map { [$0[0], trimTrailingWhitespace($0[1])] }
                && String(decoding: r.body, as: UTF8.self) == c.body && r.keepAlive == (c.keep_alive == 1)
            #expect(same, "#\(c.index) \(c.name): \(r)")
            if same { agree += 1 }
        }
        print(
            "http-parser: \(agree)/\(cases.count) parsed identically, \(httpParserStrictRejections.count) refused as strict RFC 9112 requires"
        )
        #expect(agree + httpParserStrictRejections.count == cases.count)
    }

    @Test("every request gives the same result whole, split at every byte, and byte by byte")
    func splitInvariance() {
        for c in cases {
            if let mismatch = splitMismatch(c.bytes) {
                Issue.record("#\(c.index) \(c.name): \(mismatch.cuts) gives \(mismatch.run.verdict)")
            }
        }
    }
}
