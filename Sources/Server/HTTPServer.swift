// HTTPServer — the HTTP layer. `longrm serve` does not wire it by hand: `Application` (Application.swift) builds
// it with the scoring API from one route table. Used alone (tests of the HTTP layer):
//
//   var config = ServerConfiguration(host: "127.0.0.1", port: 8080)  // port 0 = ephemeral
//   config.apiKey = key                         // optional; `authExemptPaths` defaults to ["/health"]
//   config.maxConnections / headerTimeout / bodyTimeout / idleTimeout / writeTimeout / drainTimeout / limits
//   let lifecycle = ServerLifecycle()          // `isDraining`, `onDrain {}` — for a /ready handler
//   var router = Router()
//   router.post("/v1/score") { request, context in ... return .json(status: 200, dto) }  // Router.Handler
//   let server = HTTPServer(configuration: config, router: router, lifecycle: lifecycle, logger: logger)
//   let port = try server.bind()               // optional: binds now (throws ListenError), returns the port
//   try await server.run()                     // serves; returns after a graceful shutdown (SIGTERM/SIGINT
//                                              // when config.handleSignals, or `server.shutdown()`); SIGHUP
//                                              // stops at once
//
// Handlers: `@Sendable (HTTPRequest, RequestContext) async -> HTTPResponse`. Their task is cancelled when the
// client disconnects before the response is written. Responses: `HTTPResponse.json(status:_:)` (Encodable),
// `HTTPResponse.json(status:bytes:)` or `.error(APIError)` (the error catalogue, `ErrorCode`),
// all errors in the shape {"error":{"type":..,"message":..,"field":..}}. `GET /health` is registered unless the
// router has it. `X-Request-Id` is echoed (or generated; `context.requestID`).
import Dispatch
import HTTPParser
import Logging
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The HTTP/1.1 server: a non-blocking listener, one task per connection, graceful shutdown.
public final class HTTPServer: Sendable {
    public let configuration: ServerConfiguration
    public let lifecycle: ServerLifecycle
    private let dispatcher: RequestDispatcher
    private let logger: Logger
    /// Runs every Dispatch callback (readiness, timers, accept, signals); each one only moves state and
    /// resumes continuations, so one serial queue keeps up.
    private let queue = DispatchQueue(label: "longrm.server.events")
    private let registry: ConnectionRegistry
    private let state = Mutex(State())

    private struct State {
        var socket: ListeningSocket?
        var acceptor: Acceptor?
        var running = false
        var shutdownRequested = false
    }

    public init(
        configuration: ServerConfiguration, router: Router, lifecycle: ServerLifecycle = ServerLifecycle(),
        logger: Logger = Logger(label: "longrm.server")
    ) {
        self.configuration = configuration
        self.lifecycle = lifecycle
        self.logger = logger
        var router = router
        if !router.hasRoute("GET", HealthHandler.path) {
            router.get(HealthHandler.path, watchesPeer: false, HealthHandler.handler)
        }
        let auth = configuration.apiKey.map { APIKeyAuth(key: $0, exemptPaths: configuration.authExemptPaths) }
        dispatcher = RequestDispatcher(router: router, auth: auth)
        registry = ConnectionRegistry(maxConnections: max(1, configuration.maxConnections))
    }

    /// The bound port once `bind()` (or `run()`) has bound it.
    public var port: Int? { state.withLock { $0.socket?.port } }

    /// Number of connections being served now.
    public var openConnections: Int { registry.openCount }

    /// Binds and listens now (idempotent) and returns the bound port, so callers learn an ephemeral port
    /// before `run()`.
    @discardableResult
    public func bind() throws(ListenError) -> Int {
        POSIX.ignoreSIGPIPE()
        if let port { return port }
        let socket = try ListeningSocket.bind(
            host: configuration.host, port: configuration.port,
            backlog: configuration.backlog)
        let winner: ListeningSocket = state.withLock { s in
            if let existing = s.socket { return existing }
            s.socket = socket
            return socket
        }
        if winner.fd != socket.fd { POSIX.closeFD(socket.fd) }
        return winner.port
    }

    /// Serves until `shutdown()` (or SIGTERM/SIGINT when `configuration.handleSignals`), then stops accepting,
    /// closes idle keep-alive connections, lets requests in flight finish (up to `drainTimeout`, after which
    /// their tasks are cancelled) and returns. A second SIGTERM/SIGINT, or SIGHUP, ends the drain at once: requests
    /// in flight are cancelled. Cancelling the calling task does the same. Call it once per server.
    public func run() async throws(ListenError) {
        let socket = try bindForRun()
        let acceptor = Acceptor(socket: socket, queue: queue)
        let stopNow: Bool = state.withLock { s in
            s.acceptor = acceptor
            return s.shutdownRequested
        }
        let signals =
            configuration.handleSignals
            ? SignalWatcher(signals: [SIGTERM, SIGINT, SIGHUP], queue: queue) { [self] number in
                if number == SIGHUP {
                    logger.warning("SIGHUP: stopping now, requests in flight are cancelled")
                    shutdown()
                    registry.stopWaiting()
                } else if lifecycle.isDraining {
                    registry.stopWaiting()
                } else {
                    shutdown()
                }
            }
            : nil
        defer { signals?.cancel() }
        logger.info("listening", metadata: ["host": "\(configuration.host)", "port": "\(socket.port)"])
        if stopNow { acceptor.stop() } else { acceptor.start() }

        let env = ConnectionEnvironment(configuration: configuration, dispatcher: dispatcher, logger: logger)
        await withTaskCancellationHandler {
            await serve(acceptor.connections, env: env)
        } onCancel: {
            shutdown()
        }
        state.withLock { s in
            s.socket = nil; s.acceptor = nil
        }
        logger.info("stopped")
    }

    /// Answers one request without a socket, as a connection would: API key, routing, the handler (with no
    /// peer to watch). For `longrm score` and in-memory tests; observers are not told.
    public func respond(to request: HTTPRequest) async -> HTTPResponse {
        let context = RequestContext(requestID: RequestID.make(for: request))
        var response: HTTPResponse
        switch dispatcher.decide(request) {
        case .respond(let immediate): response = immediate
        case .run(let handler, _): response = await handler(request, context)
        }
        response.headers.set(name: RequestID.headerName, value: context.requestID)
        return response
    }

    /// Starts a graceful shutdown: stop accepting, close idle connections, let busy ones finish. Returns at
    /// once; `run()` returns when the drain is over. Safe to call more than once and from any thread.
    public func shutdown() {
        let acceptor: Acceptor? = state.withLock { s in
            s.shutdownRequested = true
            return s.acceptor
        }
        if lifecycle.startDraining() { logger.info("draining", metadata: ["open": "\(registry.openCount)"]) }
        acceptor?.stop()
        registry.drainAll()
    }

    // MARK: - Internals

    private func bindForRun() throws(ListenError) -> ListeningSocket {
        try bind()
        return try state.withLock { s throws(ListenError) -> ListeningSocket in
            guard !s.running else { throw ListenError(description: "run() called twice") }
            guard let socket = s.socket else { throw ListenError(description: "socket closed") }
            s.running = true
            return socket
        }
    }

    private func serve(_ connections: AsyncStream<Int32>, env: ConnectionEnvironment) async {
        let registry = self.registry
        await withDiscardingTaskGroup { group in
            for await fd in connections {
                let io = SocketIO(fd: fd, queue: queue)
                if let id = registry.admit(io) {
                    group.addTask {
                        var connection = Connection(io: io, environment: env)
                        await connection.run()
                        registry.remove(id)
                    }
                } else if registry.beginRejecting() {
                    group.addTask {
                        await env.refuse(
                            APIError(.tooManyConnections, "too many open connections", retryAfterSeconds: 1),
                            on: io)
                        io.close()
                        registry.endRejecting()
                    }
                } else {
                    io.close()
                }
            }
            // The stream ends once shutdown() stopped the acceptor: wait for requests in flight.
            await waitForDrain()
            group.cancelAll()
        }
    }

    private func waitForDrain() async {
        let registry = self.registry
        let timeout = configuration.drainTimeout
        let finished = await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                await registry.waitUntilEmpty(); return true
            }
            group.addTask {
                try? await Task.sleep(for: timeout); return false
            }
            let first = await group.next() ?? true
            group.cancelAll()
            return first
        }
        if !finished || registry.openCount > 0 {
            logger.warning(
                "drain ended with connections open; cancelling them", metadata: ["open": "\(registry.openCount)"])
        }
    }
}
