import Foundation
import Synchronization
import Testing

@testable import RewardBench

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

@Suite struct SocketTransportTests {
    func data(_ text: String) -> Data { Data(text.utf8) }

    @Test func readsContentLengthChunkedAndInterimResponses() throws {
        let plain = try #require(
            HTTPResponseReader.parse(data("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nRetry-After: 3\r\n\r\nhello")))
        #expect(plain.status == 200)
        #expect(plain.body == data("hello"))
        #expect(plain.headers["retry-after"] == "3")

        let chunked = try #require(
            HTTPResponseReader.parse(
                data(
                    "HTTP/1.1 503 Busy\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nbusy\r\n6;ext=1\r\n again\r\n0\r\n\r\n"
                )))
        #expect(chunked.status == 503)
        #expect(chunked.body == data("busy again"))

        let interim = try #require(
            HTTPResponseReader.parse(
                data(
                    "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok")))
        #expect(interim.status == 201)
        #expect(interim.body == data("ok"))
    }

    @Test func incompleteResponsesWaitForMoreBytes() {
        #expect(HTTPResponseReader.parse(data("HTTP/1.1 200 OK\r\nContent-Le")) == nil)
        #expect(HTTPResponseReader.parse(data("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort")) == nil)
        #expect(HTTPResponseReader.parse(data("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nbu")) == nil)
        // Without a length the body ends when the server closes.
        #expect(HTTPResponseReader.parse(data("HTTP/1.1 200 OK\r\n\r\nall of it")) == nil)
        #expect(
            HTTPResponseReader.parse(data("HTTP/1.1 200 OK\r\n\r\nall of it"), closed: true)?.body == data("all of it"))
    }

    @Test func requestHasPathHostAndLength() throws {
        let transport = try SocketTransport(baseURL: URL(string: "http://example.test:9000/api/")!, timeout: 5)
        let text = String(decoding: transport.requestBytes(path: "v1/pairwise", body: data("{}")), as: UTF8.self)
        #expect(text.hasPrefix("POST /api/v1/pairwise HTTP/1.1\r\n"))
        #expect(text.contains("Host: example.test:9000\r\n"))
        #expect(text.contains("Content-Length: 2\r\n"))
        #expect(text.hasSuffix("\r\n\r\n{}"))
        #expect(throws: TransportFailure.self) {
            try SocketTransport(baseURL: URL(string: "https://x.test")!, timeout: 1)
        }
    }

    @Test func talksToALoopbackServer() async throws {
        let server = try OneShotServer(
            reply: "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 60\r\n\r\n"
                + #"{"rewards":[0.5,0.25],"preferred":0,"probability":0.6,"x":1}"#)
        let client = HTTPRewardClient(url: URL(string: "http://127.0.0.1:\(server.port)")!, timeout: 10)
        let reply = try await client.pairwise(
            ScoreRequest(messages: [ChatMessage(role: "user", content: "c")], responses: ["a", "b"]))
        #expect(reply.rewards == [0.5, 0.25])
        let request = server.received()
        #expect(request.hasPrefix("POST /v1/pairwise HTTP/1.1\r\n"))
        #expect(request.contains(#""responses":["a","b"]"#))
    }

    @Test func refusedConnectionIsATransportFailure() async throws {
        // Bind then close a port so nothing listens there.
        let port = try OneShotServer.freePort()
        let transport = try SocketTransport(baseURL: URL(string: "http://127.0.0.1:\(port)")!, timeout: 2)
        await #expect(throws: TransportFailure.self) { _ = try await transport.post(path: "v1/pairwise", body: Data()) }
    }
}

/// Accepts one connection on 127.0.0.1, reads the request, answers with a canned reply.
final class OneShotServer: Sendable {
    let port: Int
    private let request = LockedText()

    init(reply: String) throws {
        let fd = try Self.listener()
        port = try Self.port(of: fd)
        let request = self.request
        let thread = Thread {
            let client = accept(fd, nil, nil)
            var buffer = [UInt8](repeating: 0, count: 65536)
            var text = ""
            // Read until the body announced by Content-Length has arrived.
            while true {
                let count = recv(client, &buffer, buffer.count, 0)
                if count <= 0 { break }
                text += String(decoding: buffer[0..<count], as: UTF8.self)
                if let headEnd = text.range(of: "\r\n\r\n"),
                    let lengthLine = text[..<headEnd.lowerBound].split(separator: "\r\n").first(where: {
                        $0.lowercased().hasPrefix("content-length:")
                    }),
                    let length = Int(lengthLine.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)),
                    text.utf8.count - text[..<headEnd.upperBound].utf8.count >= length
                {
                    break
                }
            }
            request.set(text)
            _ = reply.withCString { send(client, $0, strlen($0), 0) }
            close(client)
            close(fd)
        }
        thread.start()
    }

    func received() -> String { request.get() }

    static func listener() throws -> Int32 {
        #if os(Linux)
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
            let fd = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard fd >= 0, bound == 0, listen(fd, 4) == 0 else { throw TransportFailure("cannot listen") }
        return fd
    }

    static func port(of fd: Int32) throws -> Int {
        var address = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let status = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard status == 0 else { throw TransportFailure("getsockname") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    static func freePort() throws -> Int {
        let fd = try listener()
        defer { close(fd) }
        return try port(of: fd)
    }
}

final class LockedText: Sendable {
    private let text = Mutex("")
    func set(_ value: String) { text.withLock { $0 = value } }
    func get() -> String { text.withLock { $0 } }
}
