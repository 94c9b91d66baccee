import HTTPParser

/// Everything a parser produced for some input: the events, the error it stopped on, and where it stood.
struct ParseRun: Equatable {
    var events: [HTTPParserEvent] = []
    var error: HTTPParseError?
    var phase: HTTPRequestParser.Phase = .idle

    enum Verdict: String { case accept, reject, incomplete }

    /// accept: every byte consumed at a request boundary; incomplete: more bytes needed; reject: an error.
    var verdict: Verdict {
        if error != nil { return .reject }
        return phase == .idle ? .accept : .incomplete
    }

    var requests: [HTTPRequest] {
        events.compactMap { if case .request(let r) = $0 { r } else { nil } }
    }
}

/// Feeds `bytes` in pieces ending at each of `cuts` (and the end), draining events after every piece.
func parse(_ bytes: [UInt8], cuts: [Int] = [], limits: HTTPLimits = HTTPLimits(), requireHost: Bool = false) -> ParseRun
{
    var parser = HTTPRequestParser(limits: limits, requireHost: requireHost)
    var run = ParseRun()
    var start = 0
    for end in cuts + [bytes.count] where end >= start {
        parser.feed(bytes[start..<end])
        start = end
        do {
            while let event = try parser.next() { run.events.append(event) }
        } catch {
            run.error = error
            break
        }
    }
    run.phase = parser.phase
    return run
}

func parse(_ text: String, limits: HTTPLimits = HTTPLimits(), requireHost: Bool = false) -> ParseRun {
    parse(Array(text.utf8), limits: limits, requireHost: requireHost)
}

/// Whole, split in two at every byte boundary, and one byte at a time: the first run that differs from the
/// whole-input run, if any.
func splitMismatch(_ bytes: [UInt8], limits: HTTPLimits = HTTPLimits(), requireHost: Bool = false) -> (
    cuts: String, run: ParseRun
)? {
    let whole = parse(bytes, limits: limits, requireHost: requireHost)
    for k in 1..<max(bytes.count, 1) {
        let run = parse(bytes, cuts: [k], limits: limits, requireHost: requireHost)
        if run != whole { return ("split at \(k)", run) }
    }
    let single = parse(bytes, cuts: Array(0..<bytes.count), limits: limits, requireHost: requireHost)
    if single != whole { return ("one byte at a time", single) }
    return nil
}
