import Foundation

/// When to try a request again and how long to wait first. Pure, so it is tested without a server.
public struct RetryPolicy: Sendable, Equatable {
    /// Total tries including the first.
    public var maxAttempts: Int
    public var baseDelay: Double
    public var maxDelay: Double

    public init(maxAttempts: Int = 6, baseDelay: Double = 0.5, maxDelay: Double = 30) {
        self.maxAttempts = max(1, maxAttempts)
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
    }

    /// 429 and 503 say "later" (with Retry-After); 502 and 504 come from proxies in front of a busy server.
    /// Other statuses are answers about the request itself and would fail again.
    public static func isRetryable(status: Int) -> Bool {
        [429, 502, 503, 504].contains(status)
    }

    /// Seconds to wait before try number `attempt + 1` (attempt counts from 1), or nil to give up.
    /// A server's Retry-After wins over the exponential schedule, capped by `maxDelay`.
    public func delay(afterAttempt attempt: Int, retryAfter: Double?) -> Double? {
        guard attempt < maxAttempts else { return nil }
        if let retryAfter, retryAfter >= 0 { return min(retryAfter, maxDelay) }
        let exponent = Double(max(0, attempt - 1))
        return min(baseDelay * pow2(exponent), maxDelay)
    }

    private func pow2(_ exponent: Double) -> Double {
        var value = 1.0
        for _ in 0..<Int(exponent) { value *= 2 }
        return value
    }

    /// Retry-After as delta-seconds; the HTTP-date form is rare for these servers and treated as absent.
    public static func parseRetryAfter(_ value: String?) -> Double? {
        guard let value = value?.trimmingCharacters(in: .whitespaces), let seconds = Double(value), seconds >= 0
        else { return nil }
        return seconds
    }
}
