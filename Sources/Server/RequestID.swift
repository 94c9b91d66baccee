import HTTPParser
import Synchronization

/// Request ids: the client's `X-Request-Id` when it is short printable ASCII, else `<random prefix>-<counter>`
/// (unique within the process, unlikely to collide across restarts, no syscall per request).
enum RequestID {
    static let headerName = "X-Request-Id"
    private static let prefix: String = {
        var g = SystemRandomNumberGenerator()
        let n = g.next() as UInt64
        let hex = String(n, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }()
    private static let counter = Atomic<UInt64>(0)

    static func make(for request: HTTPRequest) -> String {
        if let incoming = request.headers[headerName], isAcceptable(incoming) { return incoming }
        let n = counter.wrappingAdd(1, ordering: .relaxed).newValue
        return "\(prefix)-\(n)"
    }

    static func isAcceptable(_ value: String) -> Bool {
        let bytes = value.utf8
        return (1...128).contains(bytes.count) && bytes.allSatisfy { $0 > 0x20 && $0 < 0x7F }
    }
}
