import HTTPParser

/// Optional bearer-token check. The key comparison takes the same time wherever the first difference is.
public struct APIKeyAuth: Sendable {
    private let key: [UInt8]
    /// Paths answered without a key (liveness and readiness probes, metrics scrapers).
    public let exemptPaths: Set<String>

    public init(key: String, exemptPaths: Set<String>) {
        self.key = Array(key.utf8); self.exemptPaths = exemptPaths
    }

    public func isAuthorized(_ request: HTTPRequest) -> Bool {
        if exemptPaths.contains(String(request.path)) { return true }
        guard let header = request.headers["Authorization"] else { return false }
        let parts = header.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, asciiCaseInsensitiveEquals(String(parts[0]), "Bearer") else { return false }
        return Self.constantTimeEquals(Array(parts[1].utf8), key)
    }

    static func constantTimeEquals(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var difference = UInt8(truncatingIfNeeded: a.count ^ b.count)
        if a.count != b.count { difference |= 1 }
        let n = max(a.count, b.count)
        for i in 0..<n {
            let x = i < a.count ? a[i] : 0
            let y = i < b.count ? b[i] : 0
            difference |= x ^ y
        }
        return difference == 0
    }

    public static let unauthorized = APIError(.unauthorized, "missing or invalid API key")
}
