import Foundation
import HTTPParser
import Logging
import Server
import Synchronization
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Runs blocking work (sockets, child processes) on its own thread, so it never blocks the cooperative pool
/// the server under test needs.
func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        let thread = Thread { continuation.resume(with: Result { try body() }) }
        thread.start()
    }
}

/// Polls `condition` every 10 ms until it holds or `timeout` passes.
func eventually(timeout: Duration = .seconds(10), _ condition: @Sendable () -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if condition() { return true }
        try? await Task.sleep(for: .milliseconds(10))
    }
    return condition()
}

struct TestFailure: Error, CustomStringConvertible { let description: String }

/// A handler the test controls: it reports that it started, then waits until released or cancelled.
final class Gate: Sendable {
    private let state = Mutex<(started: Int, released: Bool, cancelled: Int, completed: Int)>((0, false, 0, 0))

    var started: Int { state.withLock { $0.started } }
    var cancelled: Int { state.withLock { $0.cancelled } }
    var completed: Int { state.withLock { $0.completed } }
    func release() { state.withLock { $0.released = true } }

    var handler: Router.Handler {
        { [self] _, _ in
            state.withLock { $0.started += 1 }
            while !state.withLock({ $0.released }) {
                do {
                    try await Task.sleep(for: .milliseconds(5))
                } catch {
                    state.withLock { $0.cancelled += 1 }
                    return .error(APIError(.cancelled, "cancelled"))
                }
            }
            state.withLock { $0.completed += 1 }
            return .json(status: 200, bytes: Array(#"{"slow":"done"}"#.utf8))
        }
    }
}

struct EchoSummary: Codable, Equatable {
    var method: String
    var target: String
    var length: Int
    var checksum: UInt64
}

/// FNV-1a, to compare large bodies without echoing them.
func fnv1a(_ bytes: [UInt8]) -> UInt64 {
    var h: UInt64 = 0xcbf2_9ce4_8422_2325
    for b in bytes { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
    return h
}

/// An in-process server on 127.0.0.1 with an ephemeral port and a few test routes.
final class TestServer: Sendable {
    let server: HTTPServer
    let port: Int
    let gate = Gate()
    private let task: Task<Void, any Error>

    init(_ configure: (inout ServerConfiguration) -> Void = { _ in }) throws {
        var config = ServerConfiguration(host: "127.0.0.1", port: 0)
        config.handleSignals = false
        config.headerTimeout = .seconds(5)
        config.bodyTimeout = .seconds(5)
        config.idleTimeout = .seconds(5)
        config.drainTimeout = .seconds(5)
        config.lingerTimeout = .milliseconds(500)
        configure(&config)
        var router = Router()
        router.post("/echo") { request, _ in
            .json(
                EchoSummary(
                    method: request.method, target: request.target, length: request.body.count,
                    checksum: fnv1a(request.body)))
        }
        router.get("/echo") { request, _ in
            .json(EchoSummary(method: request.method, target: request.target, length: 0, checksum: fnv1a([])))
        }
        router.get("/slow", gate.handler)
        var logger = Logger(label: "test.server")
        logger.logLevel = .warning
        server = HTTPServer(configuration: config, router: router, logger: logger)
        port = try server.bind()
        task = Task { [server] in try await server.run() }
    }

    var base: String { "http://127.0.0.1:\(port)" }

    /// Shuts down and waits (bounded) for `run()` to return.
    func stop() async throws {
        server.shutdown()
        try await finished(within: .seconds(15))
    }

    /// Waits for `run()` to return, failing after `timeout`.
    func finished(within timeout: Duration) async throws {
        let done = Mutex(false)
        let waiter = Task { [task] in
            _ = await task.result; done.withLock { $0 = true }
        }
        let ok = await eventually(timeout: timeout) { done.withLock { $0 } }
        if !ok { waiter.cancel(); throw TestFailure(description: "server did not stop within \(timeout)") }
        try await task.value
    }
}

// MARK: - curl

struct CurlResult: Sendable {
    var exitCode: Int32
    var stdout: String
    var stderr: String
}

func curl(_ arguments: [String]) async throws -> CurlResult {
    try await offPool {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        process.arguments = ["--silent", "--show-error", "--max-time", "20"] + arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // Read before waiting, so a large output cannot fill the pipe and stall curl.
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return CurlResult(
            exitCode: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
            stderr: String(decoding: stderr, as: UTF8.self))
    }
}

// MARK: - Raw socket client

struct RawResponse: Sendable {
    var status: Int
    var headers: [(String, String)]
    var body: [UInt8]

    func header(_ name: String) -> String? {
        headers.first { $0.0.lowercased() == name.lowercased() }?.1
    }
    var text: String { String(decoding: body, as: UTF8.self) }
}

/// A blocking TCP client with receive/send timeouts, so every wait in a test is bounded.
/// @unchecked Sendable: a test uses one client from one place at a time; every call runs to completion on a
/// helper thread before the next starts.
final class RawClient: @unchecked Sendable {
    private let fd: Int32
    private var pending: [UInt8] = []

    init(port: Int, timeout: Duration = .seconds(10)) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestFailure(description: "socket failed") }
        var tv = timeval(tv_sec: Int(timeout.components.seconds), tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = UInt16(port).bigEndian
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard rc == 0 else { close(fd); throw TestFailure(description: "connect failed: \(errno)") }
    }

    static func connect(_ port: Int) async throws -> RawClient { try await offPool { try RawClient(port: port) } }

    deinit { close(fd) }

    func send(_ text: String) async throws { try await send(Array(text.utf8)) }

    func send(_ bytes: [UInt8]) async throws {
        try await offPool { [self] in
            var offset = 0
            while offset < bytes.count {
                let n = bytes.withUnsafeBytes {
                    Glibc.send(fd, $0.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL))
                }
                guard n > 0 else { throw TestFailure(description: "send failed: \(errno)") }
                offset += n
            }
        }
    }

    /// Closes our side completely (the server sees end of stream).
    func closeNow() { shutdown(fd, Int32(SHUT_RDWR)) }

    /// One more chunk from the socket; nil at end of stream; throws on timeout.
    private func fill() throws -> Bool {
        var chunk = [UInt8](repeating: 0, count: 65536)
        let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if n > 0 { pending.append(contentsOf: chunk[0..<n]); return true }
        if n == 0 { return false }
        throw TestFailure(description: "recv failed or timed out: errno \(errno)")
    }

    /// Reads exactly `count` bytes (or throws).
    func readExactly(_ count: Int) async throws -> [UInt8] {
        try await offPool { [self] in
            while pending.count < count { guard try fill() else { throw TestFailure(description: "EOF") } }
            defer { pending.removeFirst(count) }
            return Array(pending[0..<count])
        }
    }

    /// Reads one response (Content-Length framed; no body for 1xx/204/304 or when `headOnly`).
    func readResponse(headOnly: Bool = false) async throws -> RawResponse {
        try await offPool { [self] in
            let separator: [UInt8] = [13, 10, 13, 10]
            var end: Int?
            while end == nil {
                if let range = pending.firstRange(of: separator) { end = range.upperBound; break }
                guard try fill() else { throw TestFailure(description: "EOF before a response head") }
            }
            let head = String(decoding: pending[0..<end!], as: UTF8.self)
            pending.removeFirst(end!)
            var lines = head.components(separatedBy: "\r\n").filter { !$0.isEmpty }
            let statusLine = lines.removeFirst().split(separator: " ")
            guard statusLine.count >= 2, let status = Int(statusLine[1]) else {
                throw TestFailure(description: "bad status line in \(head)")
            }
            let headers = lines.map { line -> (String, String) in
                let parts = line.split(separator: ":", maxSplits: 1)
                return (String(parts[0]), parts.count > 1 ? parts[1].trimmingCharacters(in: .whitespaces) : "")
            }
            var length = 0
            if let value = headers.first(where: { $0.0.lowercased() == "content-length" })?.1 {
                length = Int(value) ?? 0
            }
            if headOnly || status < 200 || status == 204 || status == 304 { length = 0 }
            while pending.count < length { guard try fill() else { throw TestFailure(description: "EOF in body") } }
            let body = Array(pending[0..<length])
            pending.removeFirst(length)
            return RawResponse(status: status, headers: headers, body: body)
        }
    }

    /// True when the server closed the connection (end of stream or reset) with nothing more to read.
    func readEndOfStream() async throws -> Bool {
        try await offPool { [self] in
            if !pending.isEmpty { return false }
            var chunk = [UInt8](repeating: 0, count: 4096)
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n == 0 { return true }
            if n < 0 && errno == ECONNRESET { return true }
            if n < 0 { throw TestFailure(description: "recv failed or timed out: errno \(errno)") }
            pending.append(contentsOf: chunk[0..<n])
            return false
        }
    }
}

func decodeError(_ body: [UInt8]) throws -> ErrorBody {
    try JSONDecoder().decode(ErrorBody.self, from: Data(body))
}
