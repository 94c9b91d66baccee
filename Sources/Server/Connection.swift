import Dispatch
import HTTPParser
import Logging

/// What every connection shares: configuration turned into ready-to-use values, the dispatcher, the clock.
struct ConnectionEnvironment: Sendable {
    let dispatcher: RequestDispatcher
    let limits: HTTPLimits
    let headerTimeout: DispatchTimeInterval
    let bodyTimeout: DispatchTimeInterval
    let idleTimeout: DispatchTimeInterval
    let writeTimeout: DispatchTimeInterval
    let lingerTimeout: DispatchTimeInterval
    /// Bytes read ahead while a handler runs (the start of a pipelined request); past this the peer is no
    /// longer watched for a disconnect.
    let readAheadLimit: Int
    let date: HTTPDate
    let logger: Logger
    let observer: (any RequestObserver)?

    init(configuration c: ServerConfiguration, dispatcher: RequestDispatcher, logger: Logger) {
        self.dispatcher = dispatcher
        limits = c.limits
        headerTimeout = .nanoseconds(c.headerTimeout.nanoseconds)
        bodyTimeout = .nanoseconds(c.bodyTimeout.nanoseconds)
        idleTimeout = .nanoseconds(c.idleTimeout.nanoseconds)
        writeTimeout = .nanoseconds(c.writeTimeout.nanoseconds)
        lingerTimeout = .nanoseconds(c.lingerTimeout.nanoseconds)
        readAheadLimit = 64 * 1024
        date = HTTPDate()
        self.logger = logger
        observer = c.observer
    }

    /// A final error response written with `Connection: close`, then a lingering close.
    func refuse(_ error: APIError, on io: SocketIO) async {
        let response = HTTPResponse.error(error)
        let bytes = response.serialize(date: date.current(), keepAlive: false)
        let written = await io.writeAll(bytes, timeout: writeTimeout)
        observer?.requestFinished(
            RequestRecord(
                method: "-", path: "-", status: response.status,
                outcome: written ? .responded : .writeFailed,
                responseBodyBytes: written ? response.body.count : 0,
                remoteAddress: POSIX.peerAddress(io.fd)))
        if written { await io.lingeringClose(timeout: lingerTimeout) }
    }
}

/// Serves one client connection in the calling task: reads and parses requests, runs their handlers one at a
/// time (pipelined requests are answered in order), writes responses, enforces the timeouts. The socket is
/// closed when `run()` returns.
struct Connection {
    private let io: SocketIO
    private let env: ConnectionEnvironment
    private let remoteAddress: String?
    private var parser: HTTPRequestParser
    private var buffer = [UInt8](repeating: 0, count: 16 * 1024)
    private var served = 0

    init(io: SocketIO, environment: ConnectionEnvironment) {
        self.io = io
        env = environment
        remoteAddress = POSIX.peerAddress(io.fd)
        parser = HTTPRequestParser(limits: environment.limits)
    }

    mutating func run() async {
        defer { io.close() }
        let connectedAt = DispatchTime.now()
        var waitStart = connectedAt  // accept, or the end of the previous response
        var observedPhase = HTTPRequestParser.Phase.idle
        var phaseStart = connectedAt
        while true {
            let event: HTTPParserEvent?
            do {
                event = try parser.next()
            } catch {
                env.logger.debug(
                    "refusing request", metadata: ["peer": "\(remoteAddress ?? "?")", "status": "\(error.status)"])
                await env.refuse(APIError(error), on: io)
                return
            }
            if let event {
                switch event {
                case .continueExpected:
                    guard await io.writeAll(HTTPResponse.continueInterim, timeout: env.writeTimeout) else { return }
                case .request(let request):
                    guard await respond(to: request) else { return }
                    served += 1
                    waitStart = .now()
                    observedPhase = .idle
                    phaseStart = waitStart
                }
                continue
            }

            let phase = parser.phase
            if phase != observedPhase { observedPhase = phase; phaseStart = .now() }
            let deadline: DispatchTime
            switch phase {
            case .idle: deadline = waitStart + (served == 0 ? env.headerTimeout : env.idleTimeout)
            case .head: deadline = (served == 0 ? connectedAt : phaseStart) + env.headerTimeout
            case .body: deadline = phaseStart + env.bodyTimeout
            }
            switch await io.read(into: &buffer, until: deadline, idle: phase == .idle) {
            case .bytes(let n):
                parser.feed(buffer[0..<n])
            case .closed:
                return
            case .timedOut:
                if phase != .idle {
                    let what = phase == .head ? "request headers" : "request body"
                    await env.refuse(
                        APIError(.requestTimeout, "timed out reading the \(what)"),
                        on: io)
                }
                return
            }
        }
    }

    /// Answers one request; false when the connection must close.
    private mutating func respond(to request: HTTPRequest) async -> Bool {
        let requestID = RequestID.make(for: request)
        let context = RequestContext(requestID: requestID, receivedAt: .now, remoteAddress: remoteAddress)
        var response: HTTPResponse
        switch env.dispatcher.decide(request) {
        case .respond(let immediate):
            response = immediate
        case .run(let handler, let watchesPeer):
            // With a next request already buffered (pipelining) the socket is not read meanwhile: reading ahead
            // again would let a client grow the buffer without bound; the kernel's window holds the rest.
            let watch = watchesPeer && parser.phase == .idle
            let outcome =
                watch
                ? await PeerWatch.run(handler, request, context, on: io, bufferLimit: env.readAheadLimit)
                : PeerWatch.Outcome(response: await handler(request, context), pipelined: [], peerGone: false)
            if !outcome.pipelined.isEmpty { parser.feed(outcome.pipelined) }
            // Cancelled from above: the drain timeout ran out, so the connection closes without a response.
            if Task.isCancelled {
                observe(request, context, status: ErrorCode.unavailable.status, outcome: .cancelled)
                return false
            }
            guard let produced = outcome.response else {
                observe(request, context, status: ErrorCode.cancelled.status, outcome: .clientGone)
                env.logger.debug(
                    "client left before its response; handler cancelled",
                    metadata: ["request-id": "\(requestID)"])
                return false
            }
            response = produced
        }
        response.headers.set(name: RequestID.headerName, value: requestID)
        let keepAlive = request.keepAlive && !io.isDraining
        let bytes = response.serialize(
            date: env.date.current(), keepAlive: keepAlive, headOnly: request.method == "HEAD")
        let written = await io.writeAll(bytes, timeout: env.writeTimeout)
        observe(
            request, context, status: response.status, outcome: written ? .responded : .writeFailed,
            sentBytes: written && request.method != "HEAD" ? response.body.count : 0)
        guard written else { return false }
        if !keepAlive { await io.lingeringClose(timeout: env.lingerTimeout) }
        return keepAlive
    }

    private func observe(
        _ request: HTTPRequest, _ context: RequestContext, status: Int, outcome: RequestRecord.Outcome,
        sentBytes: Int = 0
    ) {
        guard let observer = env.observer else { return }
        observer.requestFinished(
            RequestRecord(
                method: request.method, path: String(request.path), status: status, outcome: outcome,
                requestBodyBytes: request.body.count, responseBodyBytes: sentBytes, requestID: context.requestID,
                remoteAddress: remoteAddress, duration: context.receivedAt.duration(to: .now),
                work: context.report.values))
    }
}
