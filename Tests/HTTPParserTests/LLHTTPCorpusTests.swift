import HTTPParser
import Testing

/// Strict-mode (`meta.type == "request"`) cases where this parser deliberately answers differently from
/// llhttp, each with the verdict we give instead and the RFC reason. The test fails if a listed case starts
/// agreeing (the entry is stale) or disagrees in another way.
let llhttpDeliberateDisagreements: [String: ParseRun.Verdict] = [
    // RFC 9112 §2.3: HTTP-version = "HTTP/" DIGIT "." DIGIT. ICE/1.0 and RTSP/1.0 are other protocols that
    // llhttp happens to speak too; an HTTP server answers 400.
    "SOURCE request with ICE": .reject,
    "OPTIONS request with RTSP": .reject,
    "ANNOUNCE request with RTSP": .reject,
    // RFC 9112 §3: request-line = method SP request-target SP HTTP-version. An HTTP/0.9 "simple request"
    // without a version is not HTTP/1.x; we answer 400.
    "No HTTP version": .reject,
    // RFC 9110 §9.1: method = token. llhttp only knows a fixed list; we accept any token and leave unknown
    // methods to the router (501/405), so MKCOLA and ANNOUNCE-over-HTTP parse.
    "HTTP protocol and ANNOUNCE method": .accept,
    "Invalid method": .accept,
    // RFC 9112 §6.1: a server that does not understand a transfer coding SHOULD answer 501. We decode only
    // chunked; passing deflate-compressed bytes to a handler as if they were the content would be wrong.
    "POST with `chunked` as last transfer-encoding": .reject,
    "POST with `chunked` as last transfer-encoding (multiple headers)": .reject,
]

/// Cases that exercise an llhttp mode a request parser does not have: `skipBody` makes llhttp ignore a
/// Content-Length (as for the response to a HEAD request). Replayed for the split check, not compared.
func llhttpNotApplicable(_ c: LLHTTPCase) -> Bool { c.meta.skipBody == true }

/// Does our run match llhttp's verdict and the fields of every message llhttp completed?
/// For `upgrade` (llhttp hands the connection over after the listed messages) we require those messages as a
/// prefix: we ignore Upgrade (RFC 9110 §7.8) and treat CONNECT as the end of HTTP on the connection, so what
/// we make of the bytes after them is not comparable.
func agreesWithLLHTTP(_ c: LLHTTPCase, _ run: ParseRun) -> Bool {
    let expected = c.messages.filter(\.complete)
    let ours = run.requests
    if c.outcome == "upgrade" {
        return ours.count >= expected.count && zip(ours, expected).allSatisfy(sameMessage)
    }
    return run.verdict.rawValue == c.outcome && ours.count == expected.count
        && zip(ours, expected).allSatisfy(sameMessage)
}

/// Field by field. llhttp reports trailer fields among the headers and keeps a value's trailing whitespace,
/// which RFC 9110 §5.5 excludes from the value; we compare with that whitespace removed.
func sameMessage(_ r: HTTPRequest, _ m: LLHTTPCase.Message) -> Bool {
    let ours = (r.headers.fields + r.trailers.fields).map { [$0.name, $0.value] }
    let theirs = m.headers.map { [$0[0], trimTrailingWhitespace($0[1])] }
    return r.method == m.method && r.target == m.url && "\(r.version.major).\(r.version.minor)" == m.version
        && ours == theirs && String(decoding: r.body, as: UTF8.self) == m.body
}

func trimTrailingWhitespace(_ s: String) -> String {
    var v = Substring(s)
    while let last = v.last, last == " " || last == "\t" { v.removeLast() }
    return String(v)
}

@Suite("llhttp request corpus")
struct LLHTTPCorpusTests {
    let cases: [LLHTTPCase]

    init() throws { cases = try CorpusFiles.load("llhttp-request-cases.jsonl", as: LLHTTPCase.self) }

    @Test("all 166 cases are present")
    func corpusIsComplete() {
        #expect(cases.count == 166)
    }

    @Test("strict cases agree with llhttp, except the commented allow-list")
    func strictAgreement() {
        let strict = cases.filter { $0.meta.type == "request" }
        var agree = 0, allowed = 0, notApplicable = 0
        for c in strict {
            let run = parse(c.bytes)
            if llhttpNotApplicable(c) { notApplicable += 1; continue }
            let agrees = agreesWithLLHTTP(c, run)
            if let ours = llhttpDeliberateDisagreements[c.name] {
                #expect(!agrees, "allow-listed case now agrees with llhttp: \(c.id)")
                #expect(
                    run.verdict == ours,
                    "\(c.id): expected our verdict \(ours), got \(run.verdict) \(String(describing: run.error))")
                allowed += 1
            } else {
                #expect(
                    agrees,
                    "\(c.id): llhttp \(c.outcome), ours \(run.verdict) \(String(describing: run.error)), \(run.requests.count) requests"
                )
                if agrees { agree += 1 }
            }
        }
        print(
            "llhttp strict: \(agree)/\(strict.count) agree, \(allowed) deliberate disagreements, \(notApplicable) not applicable (skipBody)"
        )
        #expect(allowed == llhttpDeliberateDisagreements.count, "every allow-list entry names a strict case")
        #expect(agree + allowed + notApplicable == strict.count)
    }

    @Test("every case gives the same result whole, split at every byte, and byte by byte")
    func splitInvariance() {
        for c in cases {
            if let mismatch = splitMismatch(c.bytes) {
                Issue.record(
                    "\(c.id): \(mismatch.cuts) gives \(mismatch.run.verdict) \(String(describing: mismatch.run.error))")
            }
        }
    }

    /// Leniency modes accept what RFC 9112 forbids (obs-fold, bare CR/LF, CL with TE, junk after a chunk
    /// size...). Rejecting is the strict answer; the only cases we may not reject are those whose input is
    /// valid strict HTTP anyway: llhttp's `request-finish` mode, which must agree with llhttp.
    @Test("lenient-mode cases: the strict answer is to reject")
    func lenientCases() {
        let lenient = cases.filter { $0.meta.type != "request" }
        var rejected = 0
        var notRejected: [String] = []
        for c in lenient {
            let run = parse(c.bytes)
            if run.verdict == .reject {
                rejected += 1
            } else {
                notRejected.append("\(c.meta.type): \(c.name) -> \(run.verdict)")
            }
        }
        print("llhttp lenient modes: we reject \(rejected)/\(lenient.count); not rejected: \(notRejected)")
        for c in lenient {
            let run = parse(c.bytes)
            if c.meta.type == "request-finish" {
                // Not a leniency: llhttp's strict parser asked whether the input may end here.
                #expect(agreesWithLLHTTP(c, run), "\(c.id): llhttp \(c.outcome), ours \(run.verdict)")
            } else {
                #expect(run.verdict == .reject, "\(c.id) is only valid for a lenient parser")
            }
        }
    }
}
