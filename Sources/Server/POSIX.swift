// Thin wrappers over the few system calls the server makes (sockets, and writing log lines), so the rest of
// the module reads the same on Linux (Glibc) and Darwin.
#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

enum POSIX {
    static func isWouldBlock(_ code: Int32) -> Bool { code == EAGAIN || code == EWOULDBLOCK }

    static func describe(_ code: Int32) -> String { String(cString: strerror(code)) }

    static func setNonBlocking(_ fd: Int32) -> Bool {
        let flags = fcntl(fd, F_GETFL, 0)
        return flags >= 0 && fcntl(fd, F_SETFL, flags | O_NONBLOCK) == 0
    }

    static func setCloseOnExec(_ fd: Int32) {
        let flags = fcntl(fd, F_GETFD, 0)
        if flags >= 0 { _ = fcntl(fd, F_SETFD, flags | FD_CLOEXEC) }
    }

    static func setIntOption(_ fd: Int32, _ level: Int32, _ name: Int32, _ value: Int32) {
        var v = value
        _ = setsockopt(fd, level, name, &v, socklen_t(MemoryLayout<Int32>.size))
    }

    /// Turns off Nagle: responses are written whole, so delaying a tail segment only adds latency.
    static func setNoDelay(_ fd: Int32) { setIntOption(fd, Int32(IPPROTO_TCP), TCP_NODELAY, 1) }

    static func closeFD(_ fd: Int32) { _ = close(fd) }

    /// Sends without raising SIGPIPE when the peer has gone (the process also ignores SIGPIPE).
    static func sendBytes(_ fd: Int32, _ base: UnsafeRawPointer, _ count: Int) -> Int {
        #if canImport(Glibc)
            return send(fd, base, count, Int32(MSG_NOSIGNAL))
        #else
            return send(fd, base, count, 0)
        #endif
    }

    enum Transfer: Equatable {
        case bytes(Int)
        case endOfStream
        case wouldBlock
        case failed(Int32)
    }

    /// One `recv`, retried on EINTR, with errno read before anything else can change it.
    static func receive(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer) -> Transfer {
        while true {
            let n = recv(fd, buffer.baseAddress, buffer.count, 0)
            if n > 0 { return .bytes(n) }
            if n == 0 { return .endOfStream }
            let code = errno
            if code == EINTR { continue }
            return isWouldBlock(code) ? .wouldBlock : .failed(code)
        }
    }

    /// One `send`, retried on EINTR; may write fewer bytes than given.
    static func transmit(_ fd: Int32, from buffer: UnsafeRawBufferPointer) -> Transfer {
        while true {
            let n = sendBytes(fd, buffer.baseAddress!, buffer.count)
            if n >= 0 { return .bytes(n) }
            let code = errno
            if code == EINTR { continue }
            return isWouldBlock(code) ? .wouldBlock : .failed(code)
        }
    }

    /// Writes all of `bytes` to a blocking descriptor (a log file or pipe), retrying short writes and EINTR;
    /// gives up silently on any other error: a log line is not worth failing a request for.
    static func writeAll(_ fd: Int32, _ bytes: [UInt8]) {
        bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = write(fd, raw.baseAddress! + offset, raw.count - offset)
                if n > 0 { offset += n } else if n < 0 && errno == EINTR { continue } else { return }
            }
        }
    }

    /// The peer as `address:port` (IPv6 in brackets), nil when unknown.
    static func peerAddress(_ fd: Int32) -> String? {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let ok = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getpeername(fd, $0, &length) == 0 }
        }
        guard ok else { return nil }
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
        switch Int32(storage.ss_family) {
        case AF_INET:
            return withUnsafePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { sin -> String? in
                    var addr = sin.pointee.sin_addr
                    guard inet_ntop(AF_INET, &addr, &text, socklen_t(text.count)) != nil else { return nil }
                    return "\(cText(text)):\(UInt16(bigEndian: sin.pointee.sin_port))"
                }
            }
        case AF_INET6:
            return withUnsafePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { sin6 -> String? in
                    var addr = sin6.pointee.sin6_addr
                    guard inet_ntop(AF_INET6, &addr, &text, socklen_t(text.count)) != nil else { return nil }
                    return "[\(cText(text))]:\(UInt16(bigEndian: sin6.pointee.sin6_port))"
                }
            }
        default:
            return nil
        }
    }

    static func shutdownWrite(_ fd: Int32) {
        #if canImport(Glibc)
            _ = shutdown(fd, Int32(SHUT_WR))
        #else
            _ = shutdown(fd, SHUT_WR)
        #endif
    }

    /// Accepts one pending connection as a non-blocking, close-on-exec socket; nil with `errno` set otherwise.
    /// (`accept4` would save two calls, but Glibc's module map does not export it.)
    static func acceptConnection(_ listenFD: Int32) -> Int32? {
        let fd = accept(listenFD, nil, nil)
        guard fd >= 0 else { return nil }
        _ = setNonBlocking(fd)
        setCloseOnExec(fd)
        #if canImport(Darwin)
            setIntOption(fd, SOL_SOCKET, SO_NOSIGPIPE, 1)
        #endif
        return fd
    }

    static func ignoreSIGPIPE() { _ = signal(SIGPIPE, SIG_IGN) }

    static var lastError: Int32 { errno }

    private static func cText(_ chars: [CChar]) -> String {
        String(decoding: chars.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
