import HTTPParser

/// Runs a handler while watching the socket, so a client that disconnects cancels its handler's task (the
/// scoring layer drops queued work on cancellation). Bytes that arrive meanwhile (pipelined requests) are kept.
enum PeerWatch {
    struct Outcome {
        /// Nil only when the peer went away.
        var response: HTTPResponse?
        var pipelined: [UInt8]
        var peerGone: Bool
    }

    private enum Event: Sendable {
        case response(HTTPResponse)
        case watched(bytes: [UInt8], peerGone: Bool)
    }

    static func run(
        _ handler: @escaping Router.Handler, _ request: HTTPRequest, _ context: RequestContext,
        on io: SocketIO, bufferLimit: Int
    ) async -> Outcome {
        await withTaskGroup(of: Event.self) { group in
            group.addTask { .response(await handler(request, context)) }
            group.addTask { await watch(io, bufferLimit: bufferLimit) }
            var outcome = Outcome(response: nil, pipelined: [], peerGone: false)
            while let event = await group.next() {
                switch event {
                case .response(let response):
                    // A handler that returns after the peer left was cancelled: its answer goes nowhere.
                    if !outcome.peerGone { outcome.response = response }
                    group.cancelAll()  // ends the watch
                case .watched(let bytes, let peerGone):
                    outcome.pipelined = bytes
                    if peerGone && outcome.response == nil {
                        outcome.peerGone = true
                        group.cancelAll()  // cancels the handler; the group still waits for it to return
                    }
                }
            }
            return outcome
        }
    }

    /// Reads until the peer closes (peerGone), the buffer limit is reached, or the task is cancelled.
    private static func watch(_ io: SocketIO, bufferLimit: Int) async -> Event {
        var collected: [UInt8] = []
        var chunk: [UInt8] = []
        while collected.count < bufferLimit {
            do { try await io.waitReadable(deadline: nil) } catch { return .watched(bytes: collected, peerGone: false) }
            if chunk.isEmpty { chunk = [UInt8](repeating: 0, count: 16 * 1024) }
            let result = chunk.withUnsafeMutableBytes { POSIX.receive(io.fd, into: $0) }
            switch result {
            case .bytes(let n): collected.append(contentsOf: chunk[0..<n])
            case .wouldBlock: continue
            case .endOfStream, .failed: return .watched(bytes: collected, peerGone: true)
            }
        }
        return .watched(bytes: collected, peerGone: false)
    }
}
