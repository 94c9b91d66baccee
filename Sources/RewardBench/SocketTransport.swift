import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Plain-HTTP transport on blocking POSIX sockets, one short-lived thread and connection per request.
///
/// Why not URLSession: on Linux, FoundationNetworking polls about 2,000 times a second while it waits for a
/// reply (measured: ~30% of a core per request in flight). A long-context request waits minutes, and on a
/// small machine that CPU is taken from the server being measured. A blocked `recv` costs nothing.
public struct SocketTransport: HTTPTransport {
    public let host: String
    public let port: Int
    /// Path prefix from the base URL (e.g. "/api"), without a trailing slash.
    public let basePath: String
    public let timeout: Double

    public init(baseURL: URL, timeout: Double) throws {
        guard baseURL.scheme?.lowercased() == "http", let host = baseURL.host, !host.isEmpty else {
            throw TransportFailure("SocketTransport needs an http:// URL with a host, got \(baseURL)")
        }
        self.host = host
        port = baseURL.port ?? 80
        var path = baseURL.path
        while path.hasSuffix("/") { path.removeLast() }
        basePath = path
        self.timeout = timeout
    }

    public func post(path: String, body: Data) async throws -> (status: Int, retryAfter: String?, body: Data) {
        let request = requestBytes(path: path, body: body)
        let (host, port, timeout) = (host, port, timeout)
        let response: HTTPResponseReader.Response = try await withCheckedThrowingContinuation { continuation in
            // A dedicated thread: the call blocks for as long as the server computes.
            let thread = Thread {
                do {
                    continuation.resume(
                        returning: try Self.exchange(host: host, port: port, timeout: timeout, request: request))
                } catch {
                    continuation.resume(throwing: error)
                }
            }
            thread.stackSize = 1 << 20
            thread.start()
        }
        return (response.status, response.headers["retry-after"], response.body)
    }

    func requestBytes(path: String, body: Data) -> Data {
        let target = basePath + "/" + path.drop { $0 == "/" }
        let hostHeader = host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        var head = "POST \(target) HTTP/1.1\r\nHost: \(hostHeader)\r\nContent-Type: application/json\r\n"
        head += "Accept: application/json\r\nContent-Length: \(body.count)\r\nConnection: close\r\n\r\n"
        return Data(head.utf8) + body
    }

    /// Connects, sends, and reads until the response is complete or the server closes.
    static func exchange(host: String, port: Int, timeout: Double, request: Data) throws -> HTTPResponseReader.Response
    {
        let fd = try openConnection(host: host, port: port, timeout: timeout)
        defer { close(fd) }
        try request.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let sent = send(fd, buffer.baseAddress! + offset, buffer.count - offset, Self.sendFlags)
                if sent < 0 {
                    if errno == EINTR { continue }
                    throw TransportFailure("send: \(String(cString: strerror(errno)))")
                }
                offset += sent
            }
        }
        var received = Data()
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = recv(fd, &chunk, chunk.count, 0)
            if count == 0 {
                guard let response = HTTPResponseReader.parse(received, closed: true) else {
                    throw TransportFailure("connection closed before a complete response (\(received.count) bytes)")
                }
                return response
            }
            if count < 0 {
                if errno == EINTR { continue }
                if errno == EAGAIN || errno == EWOULDBLOCK {
                    throw TransportFailure("no answer within \(Int(timeout)) s")
                }
                throw TransportFailure("recv: \(String(cString: strerror(errno)))")
            }
            received.append(contentsOf: chunk[0..<count])
            if let response = HTTPResponseReader.parse(received) { return response }
        }
    }

    #if os(Linux)
        static let sendFlags = Int32(MSG_NOSIGNAL)
    #else
        static let sendFlags: Int32 = 0
    #endif

    static func openConnection(host: String, port: Int, timeout: Double) throws -> Int32 {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        #if os(Linux)
            hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        #else
            hints.ai_socktype = SOCK_STREAM
        #endif
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &list)
        guard status == 0, let first = list else {
            throw TransportFailure("cannot resolve \(host): \(String(cString: gai_strerror(status)))")
        }
        defer { freeaddrinfo(list) }
        var lastError = "no address"
        var entry: UnsafeMutablePointer<addrinfo>? = first
        while let info = entry {
            entry = info.pointee.ai_next
            let fd = socket(info.pointee.ai_family, info.pointee.ai_socktype, info.pointee.ai_protocol)
            if fd < 0 { continue }
            var time = timeval()
            time.tv_sec = .init(Int(timeout))
            time.tv_usec = .init(Int((timeout - timeout.rounded(.down)) * 1e6))
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &time, socklen_t(MemoryLayout<timeval>.size))
            setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &time, socklen_t(MemoryLayout<timeval>.size))
            #if !os(Linux)
                var one: Int32 = 1
                setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &one, socklen_t(MemoryLayout<Int32>.size))
            #endif
            if connect(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 { return fd }
            lastError = String(cString: strerror(errno))
            close(fd)
        }
        throw TransportFailure("cannot connect to \(host):\(port): \(lastError)")
    }
}

/// Parses a complete HTTP/1.1 response from bytes: skips 1xx interim responses, then reads the body by
/// Content-Length, chunked coding, or up to the end of the data (the server closed). Nil while incomplete.
public enum HTTPResponseReader {
    public struct Response: Sendable, Equatable {
        public var status: Int
        /// Lower-cased names.
        public var headers: [String: String]
        public var body: Data
    }

    public static func parse(_ data: Data, closed: Bool = false) -> Response? {
        let bytes = [UInt8](data)
        var start = 0
        while true {
            guard let headEnd = find([13, 10, 13, 10], in: bytes, from: start) else { return nil }
            let head = String(decoding: bytes[start..<headEnd], as: UTF8.self)
            var lines = head.components(separatedBy: "\r\n")
            let statusLine = lines.removeFirst().split(separator: " ", maxSplits: 2)
            guard statusLine.count >= 2, statusLine[0].hasPrefix("HTTP/"), let status = Int(statusLine[1]) else {
                return nil
            }
            var headers: [String: String] = [:]
            for line in lines {
                guard let colon = line.firstIndex(of: ":") else { continue }
                headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(
                    in: .whitespaces)
            }
            let bodyStart = headEnd + 4
            if (100..<200).contains(status) {
                start = bodyStart
                continue
            }
            if headers["transfer-encoding"]?.lowercased().contains("chunked") == true {
                guard let body = dechunk(bytes, from: bodyStart) else { return nil }
                return Response(status: status, headers: headers, body: body)
            }
            if let lengthText = headers["content-length"], let length = Int(lengthText) {
                guard bytes.count - bodyStart >= length else { return nil }
                return Response(status: status, headers: headers, body: Data(bytes[bodyStart..<bodyStart + length]))
            }
            guard closed || status == 204 || status == 304 else { return nil }
            return Response(status: status, headers: headers, body: Data(bytes[bodyStart...]))
        }
    }

    static func dechunk(_ bytes: [UInt8], from start: Int) -> Data? {
        var body = Data()
        var position = start
        while true {
            guard let lineEnd = find([13, 10], in: bytes, from: position) else { return nil }
            let sizeText = String(decoding: bytes[position..<lineEnd], as: UTF8.self).split(separator: ";").first ?? ""
            guard let size = Int(sizeText.trimmingCharacters(in: .whitespaces), radix: 16) else { return nil }
            position = lineEnd + 2
            if size == 0 { return body }
            guard bytes.count >= position + size + 2 else { return nil }
            body.append(contentsOf: bytes[position..<position + size])
            position += size + 2
        }
    }

    static func find(_ pattern: [UInt8], in bytes: [UInt8], from start: Int) -> Int? {
        guard bytes.count >= pattern.count, start <= bytes.count - pattern.count else { return nil }
        var index = start
        while index <= bytes.count - pattern.count {
            if bytes[index] == pattern[0], Array(bytes[index..<index + pattern.count]) == pattern { return index }
            index += 1
        }
        return nil
    }
}
