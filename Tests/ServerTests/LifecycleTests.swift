import Foundation
import HTTPParser
import Server
import Testing

@Suite("Timeouts, limits, cancellation and shutdown", .serialized)
struct LifecycleTests {
    @Test func slowClientIsClosedAfterTheHeaderTimeout() async throws {
        let t = try TestServer { $0.headerTimeout = .milliseconds(300) }
        let client = try await RawClient.connect(t.port)
        try await client.send("GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        let response = try await client.readResponse()
        #expect(response.status == 408)
        #expect(try decodeError(response.body).error.type == "request_timeout")
        #expect(try await client.readEndOfStream())
        #expect(await eventually { t.server.openConnections == 0 })
        try await t.stop()
    }

    @Test func stalledBodyIsClosedAfterTheBodyTimeout() async throws {
        let t = try TestServer { $0.bodyTimeout = .milliseconds(300) }
        let client = try await RawClient.connect(t.port)
        try await client.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc")
        let response = try await client.readResponse()
        #expect(response.status == 408)
        #expect(try decodeError(response.body).error.message.contains("body"))
        #expect(try await client.readEndOfStream())
        try await t.stop()
    }

    @Test func idleKeepAliveConnectionIsClosedSilently() async throws {
        let t = try TestServer { $0.idleTimeout = .milliseconds(200) }
        let client = try await RawClient.connect(t.port)
        try await client.send("GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(try await client.readResponse().status == 200)
        #expect(try await client.readEndOfStream())
        try await t.stop()
    }

    @Test func clientLeavingMidBodyDoesNotDisturbOthers() async throws {
        let t = try TestServer()
        let leaver = try await RawClient.connect(t.port)
        try await leaver.send(
            "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n" + String(repeating: "a", count: 5000))
        #expect(await eventually { t.server.openConnections == 1 })
        leaver.closeNow()
        #expect(await eventually { t.server.openConnections == 0 })
        let r = try await curl(["-o", "/dev/null", "-w", "%{http_code}", "\(t.base)/health"])
        #expect(r.stdout == "200")
        try await t.stop()
    }

    @Test func connectionsBeyondTheCapGet503() async throws {
        let t = try TestServer { $0.maxConnections = 2 }
        var held: [RawClient] = []
        for _ in 0..<2 {
            let client = try await RawClient.connect(t.port)
            try await client.send("GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(try await client.readResponse().status == 200)
            held.append(client)
        }
        #expect(t.server.openConnections == 2)
        let extra = try await RawClient.connect(t.port)
        try await extra.send("GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        let refused = try await extra.readResponse()
        #expect(refused.status == 503)
        #expect(refused.header("Connection") == "close" && refused.header("Retry-After") == "1")
        #expect(try decodeError(refused.body).error.type == "too_many_connections")
        #expect(try await extra.readEndOfStream())
        // The held connections still work.
        try await held[0].send("GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(try await held[0].readResponse().status == 200)
        try await t.stop()
    }

    @Test func handlerIsCancelledWhenTheClientDisconnects() async throws {
        let t = try TestServer()
        let client = try await RawClient.connect(t.port)
        try await client.send("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(await eventually { t.gate.started == 1 })
        client.closeNow()
        #expect(await eventually { t.gate.cancelled == 1 })
        #expect(t.gate.completed == 0)
        #expect(await eventually { t.server.openConnections == 0 })
        try await t.stop()
    }

    @Test func gracefulShutdownLetsTheRequestInFlightFinish() async throws {
        let t = try TestServer()
        let idle = try await RawClient.connect(t.port)
        try await idle.send("GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(try await idle.readResponse().status == 200)

        let busy = try await RawClient.connect(t.port)
        try await busy.send("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(await eventually { t.gate.started == 1 })

        t.server.shutdown()
        #expect(t.server.lifecycle.isDraining)
        // The idle keep-alive connection is closed; the listener stops accepting.
        #expect(try await idle.readEndOfStream())
        #expect(await eventually { (try? RawClient(port: t.port, timeout: .seconds(1))) == nil })

        t.gate.release()
        let response = try await busy.readResponse()
        #expect(response.status == 200 && response.text == #"{"slow":"done"}"#)
        #expect(response.header("Connection") == "close")
        #expect(t.gate.cancelled == 0)
        try await t.finished(within: .seconds(10))
    }

    @Test func drainTimeoutCancelsAHandlerThatNeverFinishes() async throws {
        let t = try TestServer { $0.drainTimeout = .milliseconds(300) }
        let busy = try await RawClient.connect(t.port)
        try await busy.send("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(await eventually { t.gate.started == 1 })
        t.server.shutdown()
        try await t.finished(within: .seconds(10))
        #expect(t.gate.cancelled == 1)
        #expect(try await busy.readEndOfStream())
    }

    @Test func sigtermStartsAGracefulShutdown() async throws {
        let t = try TestServer { $0.handleSignals = true }
        let busy = try await RawClient.connect(t.port)
        // A served request proves run() got past installing the signal sources.
        try await busy.send("GET /health HTTP/1.1\r\nHost: x\r\n\r\nGET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(try await busy.readResponse().status == 200)
        #expect(await eventually { t.gate.started == 1 })
        kill(getpid(), SIGTERM)
        #expect(await eventually { t.server.lifecycle.isDraining })
        t.gate.release()
        #expect(try await busy.readResponse().status == 200)
        try await t.finished(within: .seconds(10))
    }

    /// Also after an earlier server in this process watched (and stopped watching) the same signals.
    @Test func sighupStopsAtOnceAndCancelsTheRequestInFlight() async throws {
        let t = try TestServer {
            $0.handleSignals = true
            $0.drainTimeout = .seconds(30)
        }
        let busy = try await RawClient.connect(t.port)
        try await busy.send("GET /health HTTP/1.1\r\nHost: x\r\n\r\nGET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(try await busy.readResponse().status == 200)
        #expect(await eventually { t.gate.started == 1 })
        let sent = ContinuousClock.now
        kill(getpid(), SIGHUP)
        // Well inside the 30 s drain: SIGHUP does not wait for the request, it cancels it.
        try await t.finished(within: .seconds(10))
        #expect(ContinuousClock.now - sent < .seconds(10))
        #expect(await eventually { t.gate.cancelled == 1 }, "the handler in flight is cancelled")
        #expect(t.gate.completed == 0)
    }

    @Test func localhostAndEphemeralPortsWork() async throws {
        var config = ServerConfiguration(host: "localhost", port: 0)
        config.handleSignals = false
        let server = HTTPServer(configuration: config, router: Router())
        let port = try server.bind()
        #expect(port > 0 && server.port == port)
        let task = Task { try await server.run() }
        let r = try await curl(["-o", "/dev/null", "-w", "%{http_code}", "http://127.0.0.1:\(port)/health"])
        #expect(r.stdout == "200")
        server.shutdown()
        try await task.value
    }
}
