import HTTPParser

/// Everything the HTTP server needs to know, with production defaults. Tests shorten the timeouts.
public struct ServerConfiguration: Sendable {
    /// An IPv4/IPv6 literal or a host name such as `localhost` (IPv4 preferred).
    public var host: String = "127.0.0.1"
    /// 0 binds an ephemeral port; read `HTTPServer.port` after `bind()`.
    public var port: Int = 8080
    public var backlog: Int32 = 1024
    /// Open connections served at once; one more gets a 503 `too_many_connections` error and is closed.
    public var maxConnections: Int = 512
    /// Time allowed to receive a request head (request line and headers), from its first byte (from accept
    /// for the first request of a connection): slowloris protection.
    public var headerTimeout: Duration = .seconds(10)
    /// Time allowed to receive a request body once its head is complete.
    public var bodyTimeout: Duration = .seconds(60)
    /// How long a keep-alive connection may sit between requests.
    public var idleTimeout: Duration = .seconds(5)
    /// How long a single write may wait for the peer to read.
    public var writeTimeout: Duration = .seconds(60)
    /// On shutdown: how long requests in flight may take before their connections are cancelled.
    public var drainTimeout: Duration = .seconds(30)
    /// After a final `Connection: close` response: how long to read and discard what the peer still sends, so
    /// closing does not reset the connection before the peer has read the response.
    public var lingerTimeout: Duration = .seconds(2)
    public var limits: HTTPLimits = HTTPLimits()
    /// When set, every path outside `authExemptPaths` needs `Authorization: Bearer <apiKey>`.
    public var apiKey: String?
    public var authExemptPaths: Set<String> = [HealthHandler.path]
    /// Install SIGTERM/SIGINT handlers that start a graceful shutdown while `run()` is running.
    public var handleSignals: Bool = true
    /// Told about every finished request (metrics, access log); see `RequestObserver`.
    public var observer: (any RequestObserver)?

    public init(host: String = "127.0.0.1", port: Int = 8080) {
        self.host = host; self.port = port
    }
}

extension Duration {
    /// Whole nanoseconds, saturating.
    var nanoseconds: Int {
        let (s, atto) = components
        let (product, overflow) = s.multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return s < 0 ? Int.min : Int.max }
        return Int(product) &+ Int(atto / 1_000_000_000)
    }
}
