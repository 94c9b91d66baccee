#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Why the server could not start listening.
public struct ListenError: Error, CustomStringConvertible, Sendable {
    public let description: String
}

/// A bound, listening, non-blocking TCP socket.
struct ListeningSocket: Sendable {
    let fd: Int32
    /// The port actually bound (differs from the requested one when that was 0).
    let port: Int

    /// Resolves `host` (an IPv4/IPv6 literal or a name such as `localhost`; IPv4 addresses are preferred) and
    /// binds the first address that works.
    static func bind(host: String, port: Int, backlog: Int32) throws(ListenError) -> ListeningSocket {
        guard (0...65535).contains(port) else { throw ListenError(description: "port \(port) out of range") }
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        #if canImport(Glibc)
            hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        #else
            hints.ai_socktype = SOCK_STREAM
        #endif
        hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV
        var list: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(host, String(port), &hints, &list)
        guard rc == 0, let list else {
            throw ListenError(description: "cannot resolve \(host): \(String(cString: gai_strerror(rc)))")
        }
        defer { freeaddrinfo(list) }

        var candidates: [UnsafeMutablePointer<addrinfo>] = []
        var cursor: UnsafeMutablePointer<addrinfo>? = list
        while let entry = cursor { candidates.append(entry); cursor = entry.pointee.ai_next }
        candidates.sort { ($0.pointee.ai_family == AF_INET ? 0 : 1) < ($1.pointee.ai_family == AF_INET ? 0 : 1) }

        var lastError = "no usable address for \(host)"
        for entry in candidates {
            let info = entry.pointee
            let fd = socket(info.ai_family, info.ai_socktype, info.ai_protocol)
            guard fd >= 0 else { lastError = "socket: \(POSIX.describe(POSIX.lastError))"; continue }
            POSIX.setCloseOnExec(fd)
            POSIX.setIntOption(fd, SOL_SOCKET, SO_REUSEADDR, 1)
            guard bindSocket(fd, info.ai_addr, info.ai_addrlen) == 0 else {
                lastError = "bind \(host):\(port): \(POSIX.describe(POSIX.lastError))"
                POSIX.closeFD(fd); continue
            }
            guard listen(fd, backlog) == 0, POSIX.setNonBlocking(fd) else {
                lastError = "listen \(host):\(port): \(POSIX.describe(POSIX.lastError))"
                POSIX.closeFD(fd); continue
            }
            guard let bound = boundPort(fd) else {
                lastError = "getsockname: \(POSIX.describe(POSIX.lastError))"
                POSIX.closeFD(fd); continue
            }
            return ListeningSocket(fd: fd, port: bound)
        }
        throw ListenError(description: lastError)
    }

    private static func boundPort(_ fd: Int32) -> Int? {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let ok = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) == 0 }
        }
        guard ok else { return nil }
        switch Int32(storage.ss_family) {
        case AF_INET:
            return withUnsafePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { Int(UInt16(bigEndian: $0.pointee.sin_port)) }
            }
        case AF_INET6:
            return withUnsafePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) {
                    Int(UInt16(bigEndian: $0.pointee.sin6_port))
                }
            }
        default:
            return nil
        }
    }
}

// `bind` is shadowed by the static method above inside the type.
private func bindSocket(_ fd: Int32, _ address: UnsafePointer<sockaddr>?, _ length: socklen_t) -> Int32 {
    bind(fd, address, length)
}
